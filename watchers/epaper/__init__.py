"""E-paper (数字报) watchers: Founder classic, Founder pc layout and the PaperIndex family.

Nothing is imported here, so ``watchers.epaper.settings`` loads without the watcher and
its HTTP stack.
"""
