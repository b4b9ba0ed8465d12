"""Use cases: what a page, an API call or a command asks for, combining the domain packages
(intake, rendering, geography, dispatch, audit) so that none of them needs another's caller.
Web and CLI call these; nothing below imports them."""
