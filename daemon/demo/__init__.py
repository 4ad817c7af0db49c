"""The bundled demo: a tiny local news site and a config that watches it."""
