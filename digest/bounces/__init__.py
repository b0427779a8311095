"""Learning after the send: bounces (RFC 3464 DSNs and the common non-standard formats),
complaints (RFC 5965 ARF reports) and mailto: unsubscribe requests that arrive later.

`report` says what an inbound message or webhook event means, `match` finds the delivery
it is about, `record` applies it (bounce counts, complained, unsubscribed) and writes the
event, `mailboxes` reads Maildir, mbox and IMAP, and `process` ties them together for
`digest bounces process`.
"""
