"""The owner filter every list tab shares: "me", "team" or a rep id, cycled with ``O``."""

from __future__ import annotations

from store.database import Store


def owner_of(choice: str, store: Store) -> str | None:
    """The rep a filter choice means; None for the whole team."""
    return None if choice == "team" else (store.me if choice == "me" else choice)


def next_owner(choice: str, store: Store) -> str:
    """The choice after ``choice``: me, team, then every other rep, round again."""
    order = ["me", "team", *[r for r in store.config.rep_ids() if r != store.me]]
    current = order.index(choice) if choice in order else 0
    return order[(current + 1) % len(order)]
