"""Where the weekly review is mailed from (a team setting, ``mail`` in ``dealdeck team
edit``): pure rules, no I/O. The password is never a setting: it comes from the
environment or the system keyring when a message is sent (``tui.report_mail``)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

#: the environment variable the SMTP password is read from
PASSWORD_ENV = "DEALDECK_SMTP_PASSWORD"
#: the system keyring's service name for it (the user name is ``mail.user``)
KEYRING_SERVICE = "dealdeck-smtp"
DEFAULT_PORTS = {"starttls": 587, "tls": 465, "none": 25}
LOOPBACK = ("localhost", "127.0.0.1", "::1")


class MailSettings(BaseModel):
    """The team's SMTP server, and who the review goes to besides the reps."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    host: str = Field(default="", max_length=253)
    #: unset: 587 for STARTTLS, 465 for TLS, 25 for none
    port: int | None = Field(default=None, ge=1, le=65535)
    #: "none" only for a relay on this computer (the review and the password would cross
    #: the network in clear)
    security: Literal["starttls", "tls", "none"] = "starttls"
    user: str = Field(default="", max_length=254)
    #: the From address; unset: ``user`` if it is an address, else the sender's rep's email
    sender: str = Field(default="", max_length=254)
    #: more recipients besides the reps with an email (a manager, a list)
    to: list[str] = []

    @model_validator(mode="before")
    @classmethod
    def _no_password(cls, data: Any) -> Any:
        if isinstance(data, dict) and "password" in data:
            raise ValueError(f"the SMTP password is never kept in the settings: set {PASSWORD_ENV}, or put it in "
                             f"the system keyring (service {KEYRING_SERVICE!r}, user = mail.user)")
        return data

    @model_validator(mode="after")
    def _clear_only_on_this_computer(self) -> MailSettings:
        if self.security == "none" and self.host and self.host not in LOOPBACK:
            raise ValueError(f"security 'none' sends the review and the password in clear: only for a relay on "
                             f"this computer (localhost), not {self.host!r}; use starttls or tls")
        return self

    @property
    def server_port(self) -> int:
        return self.port or DEFAULT_PORTS[self.security]
