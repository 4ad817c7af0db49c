"""E-paper (数字报) watchers: Founder classic, Founder pc layout and the PaperIndex family."""

from watchers.epaper.watcher import EpaperSource, EpaperWatcher

__all__ = ["EpaperSource", "EpaperWatcher"]
