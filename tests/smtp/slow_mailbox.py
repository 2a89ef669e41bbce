"""An aiosmtpd handler for the tests: a Maildir like aiosmtpd's Mailbox,
slow for chosen messages. Any message whose content holds MARKER waits
DELAY seconds before the relay answers its DATA, as a relay under load does.

    python3 -m aiosmtpd -n -l 127.0.0.1:2525 -c slow_mailbox.SlowMailbox MAILDIR DELAY MARKER
"""

import asyncio

from aiosmtpd.handlers import Mailbox


class SlowMailbox(Mailbox):
    def __init__(self, mail_dir, delay, marker):
        super().__init__(mail_dir)
        self.delay = float(delay)
        self.marker = marker.encode()

    async def handle_DATA(self, server, session, envelope):
        if self.marker in envelope.content:
            await asyncio.sleep(self.delay)
        return await super().handle_DATA(server, session, envelope)

    @classmethod
    def from_cli(cls, parser, *args):
        if len(args) != 3:
            parser.error("SlowMailbox takes MAILDIR DELAY MARKER")
        return cls(*args)
