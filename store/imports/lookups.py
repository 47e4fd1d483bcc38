"""What an import looks up in the database: reps, customers, records it may update,
and records a new row may duplicate. Each is indexed once per import."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from store.config import Config
from store.database import Store
from store.imports.columns import listing
from store.leads import (
    customer_match_keys,
    match_keys,
    normalise_company,
    normalise_name,
    normalise_phone,
    pick_owner,
)
from store.models import Customer, Lead, Record


class RepNames:
    """The team's reps by id, name or e-mail, without case (picklable: import workers use it)."""

    def __init__(self, config: Config) -> None:
        self.known: dict[str, str] = {}
        for rep in config.reps:
            for word in (rep.email, rep.name, rep.id):
                if word.strip():
                    self.known[word.strip().casefold()] = rep.id

    def find(self, value: str) -> str | None:
        key = value.strip().casefold()
        return "auto" if key == "auto" else self.known.get(key)


class Reps(RepNames):
    """``RepNames``, and ``auto``: the config's assignment rule, round robin after the newest record."""

    def __init__(self, store: Store, cls: type[Record]) -> None:
        super().__init__(store.config)
        self.config: Config = store.config
        self.store, self.cls = store, cls
        self._last: str | None = None
        self._last_known = False

    def resolve(self, value: str) -> str:
        rep = self.find(value)
        if rep is None:
            raise ValueError(f"{value.strip()!r} is not one of the team's reps "
                             f"({listing(r.id for r in self.config.reps)})")
        return rep

    def auto(self, data: Mapping[str, Any]) -> str:
        if not self._last_known:
            newest = max(self.store.rows(self.cls), key=lambda d: str(d.get("created_at")), default=None)
            self._last, self._last_known = (newest or {}).get("owner"), True
        return pick_owner(self.config, data, [self._last] if self._last else [])

    def got(self, owner: str) -> None:
        """``owner`` got the latest record: round robin continues after them."""
        self._last, self._last_known = owner, True


class Customers:
    """Find a contact's customer by id, exact name, or name without Ltd/Inc."""

    def __init__(self, store: Store) -> None:
        self.ids: set[str] = set()
        self.exact: dict[str, list[str]] = defaultdict(list)
        self.loose: dict[str, list[str]] = defaultdict(list)
        self.names: dict[str, str] = {}
        for doc in store.rows(Customer):
            self.ids.add(doc["id"])
            self.names[doc["id"]] = doc["name"]
            self.exact[doc["name"].strip().casefold()].append(doc["id"])
            self.loose[normalise_company(doc["name"])].append(doc["id"])

    def find(self, value: str) -> str:
        if value in self.ids:
            return value
        for found in (self.exact.get(value.casefold(), []), self.loose.get(normalise_company(value), [])):
            if len(found) == 1:
                return found[0]
            if len(found) > 1:
                names = listing((self.names[i] for i in found), limit=3)
                raise ValueError(f"{len(found)} customers match {value!r} ({names}); "
                                 "use the exact name or the customer's id")
        raise ValueError(f"no customer named {value!r} (import the customers first)")


class Existing:
    """Records of the table a row may update: by Dealdeck id or the other system's id
    (its key column); a row without a key by what identifies a person or company
    (``identity_keys``: its e-mail, else its phone, else its name with its company),
    when exactly one record has it, so that a file with no id column imported again
    adds nothing."""

    def __init__(self, store: Store, cls: type[Record]) -> None:
        self.store, self.cls = store, cls
        self.by_key: dict[str, str] = {}
        self.ids: set[str] = set()
        for doc in store.rows(cls):
            self.ids.add(doc["id"])
            if doc.get("external_id"):
                self.by_key.setdefault(doc["external_id"], doc["id"])
        #: identity key -> the one record that has it ("" when several do); built on first use
        self._by_identity: dict[str, str] | None = None

    def find(self, key: str, identity: Iterable[str]) -> str | None:
        if key:
            if key in self.ids:  # the file holds Dealdeck's own ids (an export of ours)
                return key
            return self.by_key.get(key)
        if not identity:
            return None
        by_identity = self._identities()
        for name in identity:
            found = by_identity.get(name)
            if found is not None:
                return found or None  # several records have it: none is updated
        return None

    def add(self, record_id: str, key: str, identity: Iterable[str]) -> None:
        """A row of this file added ``record_id``: a later row with its key updates it."""
        self.ids.add(record_id)
        if key:
            self.by_key.setdefault(key, record_id)
        if identity:
            by_identity = self._identities()
            for name in identity:
                by_identity.setdefault(name, record_id)

    def _identities(self) -> dict[str, str]:
        if self._by_identity is None:
            found: dict[str, str] = {}
            for doc in self.store.rows(self.cls):
                for name in identity_keys(self.cls.table, doc):
                    found[name] = "" if found.get(name, doc["id"]) != doc["id"] else doc["id"]
            self._by_identity = found
        return self._by_identity


def identity_keys(table: str, data: Mapping[str, Any]) -> tuple[str, ...]:
    """What tells that a row without a key is a record already here: its e-mail; without
    one, its phone with its name; without a phone, its name with its company (a lead), the
    company's name (a customer), or its name at its customer (a contact). One key, the
    surest the row has: a shared switchboard number is not one person. Pure: import
    workers compute it from a row's fields."""
    email = str(data.get("email") or "").strip().casefold()
    if email:
        return (f"email:{email}",)
    name = normalise_name(str(data.get("name") or ""))
    phone = normalise_phone(str(data.get("phone") or "")) if data.get("phone") else ""
    if phone and name:
        return (f"phone:{phone}|{name}",)
    if table == "customers":
        company = normalise_company(str(data.get("name") or ""))
        return (f"company:{company}",) if company else ()
    if table == "contacts":
        return (f"contact:{data['customer_id']}|{name}",) if name and data.get("customer_id") else ()
    company = normalise_company(str(data.get("company") or ""))
    return (f"person:{company}|{name}",) if name and company else ()


def duplicate_keys(table: str, doc: Mapping[str, Any]) -> tuple[set[str], set[str]]:
    """A new record's own match keys, and the keys to look up (a lead's company also
    finds existing customers). Pure: import workers compute it."""
    if table == "leads":
        own = match_keys(doc)
        company = normalise_company(str(doc.get("company") or ""))
        return own, own | {"company:" + company} if company else own
    keys = customer_match_keys(doc)
    return keys, keys


class Duplicates:
    """Existing records and earlier rows that look like the same person or company
    (the keys of ``store.leads``, as ``Store.duplicates_of`` uses them, indexed once)."""

    def __init__(self, store: Store, table: str) -> None:
        self.table = table
        self.existing: dict[str, list[str]] = defaultdict(list)
        #: key -> (line, label) of the first row of this file that had it
        self.in_file: dict[str, tuple[int, str]] = {}
        if table == "leads":
            self._index(store.rows(Lead), match_keys, "lead")
        self._index(store.rows(Customer), customer_match_keys, "customer")

    def _index(self, docs: Iterable[Mapping[str, Any]], keys: Callable[[Mapping[str, Any]], set[str]],
               noun: str) -> None:
        for doc in docs:
            label = f"existing {noun} {doc['name']} (owner {doc['owner']})"
            for key in keys(doc):
                self.existing[key].append(label)

    def check(self, line: int, keys: tuple[Iterable[str], Iterable[str]], label: str) -> str | None:
        """``keys``: ``duplicate_keys`` of the row's record."""
        own, lookup = keys
        existing, in_file = self.existing, self.in_file
        earlier = [key for key in lookup if key in existing]
        same = []
        for key in own:
            if key in in_file:
                same.append(key)
            else:
                in_file[key] = (line, label)
        if not earlier and not same:  # the usual case: nothing to build
            return None
        found = list(dict.fromkeys(hit for key in earlier for hit in existing[key]))
        found += list(dict.fromkeys("line {} ({})".format(*in_file[key]) for key in same))
        more = f" and {len(found) - 1} more" if len(found) > 1 else ""
        return f"line {line}: looks like {found[0]}{more}"
