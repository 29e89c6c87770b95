"""An SMTP server for the email tests: aiosmtpd on 127.0.0.1:PORT, writing
every message it receives to DIR as JSON (envelope, headers, and the decoded
plain-text and HTML parts), so a test reads what a mail client would show.
Runs until its standard input closes, i.e. until the test drops it or dies.

Usage: smtp_sink.py PORT DIR
"""

import email
import email.policy
import json
import os
import sys

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, out):
        self.out = out
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        parts = {}
        for part in message.walk():
            kind = part.get_content_type()
            if kind in ("text/plain", "text/html") and not part.is_multipart():
                parts[kind] = part.get_content()
        self.count += 1
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "from": str(message["from"]),
            "to": str(message["to"]),
            "subject": str(message["subject"]),
            "content_type": message.get_content_type(),
            "text": parts.get("text/plain"),
            "html": parts.get("text/html"),
        }
        # Written whole, then renamed: a reader never sees half a message.
        partial = os.path.join(self.out, f".{self.count}.json")
        with open(partial, "w", encoding="utf-8") as f:
            json.dump(record, f)
        os.rename(partial, os.path.join(self.out, f"{self.count}.json"))
        return "250 Message accepted for delivery"


def main():
    port, out = int(sys.argv[1]), sys.argv[2]
    controller = Controller(Sink(out), hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    try:
        sys.stdin.read()
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
