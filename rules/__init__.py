"""Topic rules: the query language and the matcher (see docs/rules.md).

``compile_rules(rules).match(doc)`` is the whole interface the daemon needs; it is
synchronous and CPU-bound, so the daemon runs it in a worker thread.
"""

from rules.compile import Matcher, RuleError, compile_rules
from rules.model import Document, Hit, Mode, TopicMatch, TopicRule, combined_text
from rules.normalize import Mapped, fold, match_form, normalize, normalize_mapped
from rules.query import Query, QuerySyntaxError, parse_query

__all__ = [
    "Document",
    "Hit",
    "Mapped",
    "Matcher",
    "Mode",
    "Query",
    "QuerySyntaxError",
    "RuleError",
    "TopicMatch",
    "TopicRule",
    "combined_text",
    "compile_rules",
    "fold",
    "match_form",
    "normalize",
    "normalize_mapped",
    "parse_query",
]
