"""A local SMTP server that keeps every mail it receives as an .eml file.

The demo points Odoo's outgoing mail server at it, so the reminders the
dunning sends can be read without sending anything to anybody:

    python tools/mail_catcher.py --port 8025 --folder .demo-mail

It listens on the loopback address only and runs until it is stopped. Each
mail is written as NNNN-<recipient>.eml (the complete message as received).
"""

import argparse
import re
import signal
import threading
from pathlib import Path

from aiosmtpd.controller import Controller


class KeepAsEml:
    """aiosmtpd handler: each accepted message becomes a numbered .eml file."""

    def __init__(self, folder):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.count = len(list(self.folder.glob("*.eml")))
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd API
        with self.lock:
            self.count += 1
            number = self.count
        recipient = re.sub(r"[^A-Za-z0-9@._-]", "_", (envelope.rcpt_tos or ["unknown"])[0])
        path = self.folder / f"{number:04d}-{recipient}.eml"
        content = envelope.original_content or envelope.content
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
        return "250 Message accepted for delivery"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--folder", required=True)
    args = parser.parse_args()
    controller = Controller(KeepAsEml(args.folder), hostname="127.0.0.1", port=args.port)
    controller.start()
    print(f"mail catcher on 127.0.0.1:{args.port}, keeping mails in {args.folder}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
