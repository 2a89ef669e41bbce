"""An SMTP relay for the tests that wants a login, as a provider's does:
AUTH PLAIN or LOGIN (over plain TCP, for loopback only) with one user and
password, and no mail accepted before it. Messages go to a Maildir.

    python3 login_relay.py PORT MAILDIR USER PASSWORD
"""

import sys
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Mailbox
from aiosmtpd.smtp import AuthResult, LoginPassword


def main():
    port, maildir, user, password = sys.argv[1:5]

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login == user.encode()
            and auth_data.password == password.encode()
        )
        # handled=False: aiosmtpd answers 535 itself.
        return AuthResult(success=ok, handled=False)

    controller = Controller(
        Mailbox(maildir),
        hostname="127.0.0.1",
        port=int(port),
        authenticator=authenticator,
        auth_required=True,
        auth_require_tls=False,
    )
    controller.start()
    threading.Event().wait()


if __name__ == "__main__":
    main()
