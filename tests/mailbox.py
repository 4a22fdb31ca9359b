"""A real SMTP server for the tests (aiosmtpd), on 127.0.0.1: the service's e-mails go through
`smtplib` to it exactly as to a production relay, and the test reads what arrived."""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller


@dataclass
class Mailbox:
    port: int
    messages: list[EmailMessage] = field(default_factory=list)
    arrived: threading.Condition = field(default_factory=threading.Condition)

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's hook
        message = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        with self.arrived:
            self.messages.append(message)
            self.arrived.notify_all()
        return "250 Message accepted for delivery"

    def wait_for(self, to: str, *, count: int = 1, timeout: float = 10) -> EmailMessage:
        """The `count`-th message to `to`, waiting for it (the service sends after its answer)."""
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.to(to)) >= count, timeout=timeout)
        received = self.to(to)
        assert len(received) >= count, f"no e-mail #{count} to {to}: {[m['To'] for m in self.messages]}"
        return received[count - 1]

    def to(self, address: str) -> list[EmailMessage]:
        return [message for message in self.messages if message["To"] == address]


def link_in(message: EmailMessage) -> str:
    """The one link of the service in an e-mail's body."""
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    links = re.findall(r"https?://\S+", body.get_content())
    assert len(links) == 1, links
    return links[0]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def mailbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[Mailbox]:
    """A local SMTP server, and the service configured to send through it."""
    box = Mailbox(port=free_port())
    controller = Controller(box, hostname="127.0.0.1", port=box.port)
    controller.start()
    monkeypatch.setenv("REFERRAL_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("REFERRAL_SMTP_PORT", str(box.port))
    monkeypatch.delenv("REFERRAL_SMTP_USER", raising=False)
    try:
        yield box
    finally:
        controller.stop()
