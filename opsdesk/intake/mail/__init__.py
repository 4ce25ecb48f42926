"""Email intake: mail read from an IMAP mailbox (``opsdesk fetchmail``) or piped in by a mail
server (``opsdesk mailgate``) becomes a ticket, or a comment on the ticket it answers."""
