"""The web console: staff log in, subscribe, try rules and read what matched.

Served by the daemon's own event loop (``[web] listen``) or alone by ``tingfeng web``;
every page is server-rendered and works offline (no CDN). Pages call named operations
in storage/, never SQL.
"""
