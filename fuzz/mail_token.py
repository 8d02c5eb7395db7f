"""Prints the token of the newest mail sent to an address by the `file` mail transport.

usage: mail_token.py MAIL_DIR EMAIL
"""
import email
import email.policy
import pathlib
import re
import sys

mail_dir, address = pathlib.Path(sys.argv[1]), sys.argv[2]
newest = None
for path in sorted(mail_dir.glob("*.eml"), key=lambda p: p.stat().st_mtime):
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    if address in str(message["To"]):
        newest = message
if newest is None:
    sys.exit(f"no mail to {address} in {mail_dir}")
body = newest.get_body(preferencelist=("plain", "html")).get_content()
match = re.search(r"token=([A-Za-z0-9_-]+)", body)
if match is None:
    sys.exit(f"no token in the mail to {address}")
print(match.group(1))
