"""Sandboxed Jinja2 rendering of reminder texts (e-mail HTML and plain text).

Templates are edited by users, so they are rendered in an immutable sandbox
over plain data only (dicts, lists, str, Decimal, date, int) and every
failure surfaces as ``TemplateProblem`` with an English message.  Size and
time are bounded: output is streamed and counted, the sandbox hooks
(attribute access, calls, operators, filters, loop iterations) check a
deadline, and operations that could build huge values are refused before
they run.

The context (its keys and the sample the preview renders) is defined in
``template_context``.

Filters (also callable as functions): ``money(amount, symbol='€',
lang=None)``, ``date(value, lang=None)``, ``percent(value, digits=2,
lang=None)``.  ``range`` is limited to 1000 items.  ``None`` prints as an
empty string, so missing address lines do not show up as 'None'.
"""

from __future__ import annotations

import functools
import re
import string
import time
from collections import abc
from contextvars import ContextVar
from datetime import date
from decimal import Decimal, DecimalException

from jinja2 import (
    BaseLoader,
    StrictUndefined,
    TemplateError,
    TemplateNotFound,
    TemplateSyntaxError,
    Undefined,
    UndefinedError,
    nodes,
    pass_context,
    pass_eval_context,
)
from jinja2 import filters as jinja_filters
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError
from jinja2.utils import missing
from jinja2.visitor import NodeTransformer

from .dates import format_date
from .money import format_money, round_money

DEFAULT_MAX_OUTPUT = 200_000
DEFAULT_TIMEOUT = 2.0
MAX_RANGE = 1000
# widths/precisions in format strings and padding methods
MAX_WIDTH = 1000
# larger integers cannot even be printed (Python's 4300 digit limit)
MAX_INT_BITS = 14_000
MAX_NUMBER_DIGITS = 4300
# text produced along the way (loop bodies, macro results, filter results)
# may exceed the final output, e.g. when a macro is built then printed
PRODUCED_FACTOR = 10
TEMPLATE_CACHE_SIZE = 128

_TEMPLATE_FILENAME = "<template>"


class TemplateProblem(ValueError):
    """A template cannot be compiled or rendered; message is user-facing."""

    def __init__(self, message: str, lineno: int | None = None):
        super().__init__(message)
        self.message = message
        self.lineno = lineno

    def __str__(self) -> str:
        if self.lineno:
            return f"Line {self.lineno}: {self.message}"
        return self.message


class _LimitExceeded(TemplateProblem):
    """Raised from inside the sandbox when a size or time limit is hit."""


class _Budget:
    __slots__ = ("deadline", "max_output", "produced", "timeout")

    def __init__(self, max_output: int, timeout: float):
        self.timeout = timeout
        self.deadline = time.monotonic() + timeout
        self.max_output = max_output
        self.produced = 0


# Per render; the environments are shared between threads and requests.
_BUDGET: ContextVar[_Budget | None] = ContextVar("isp_dunning_render_budget", default=None)


def _check_time() -> None:
    budget = _BUDGET.get()
    if budget is not None and time.monotonic() > budget.deadline:
        raise _LimitExceeded(
            f"Rendering took longer than {budget.timeout:g} seconds (endless loop?)"
        )


def _max_size() -> int:
    budget = _BUDGET.get()
    return budget.max_output if budget is not None else DEFAULT_MAX_OUTPUT


def _require_size(size: int) -> None:
    limit = _max_size()
    if size > limit:
        raise _LimitExceeded(f"The template would produce more than {limit} characters")


def _require_width(width) -> None:
    if isinstance(width, int) and width > MAX_WIDTH:
        raise _LimitExceeded(f"Widths above {MAX_WIDTH} characters are not allowed")


def _produce(size: int) -> None:
    budget = _BUDGET.get()
    if budget is None:
        return
    budget.produced += size
    if budget.produced > budget.max_output * PRODUCED_FACTOR:
        raise _LimitExceeded(
            f"The template produces too much text (limit {budget.max_output} characters)"
        )


def _weight(value, limit: int) -> int:
    """Approximate printed size of a value; stops counting beyond ``limit``."""
    total = 0
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, (str, bytes)):
            total += len(item)
        elif isinstance(item, dict):
            total += 2 + len(item)
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, (list, tuple, set, frozenset)):
            total += 2 + len(item)
            stack.extend(item)
        elif isinstance(item, int):
            total += item.bit_length() // 3 + 1
        else:
            total += 1
        if total > limit:
            break
    return total


def _text_size(value) -> int:
    if isinstance(value, str):
        return len(value)
    return _weight(value, _max_size())


def _check_number(value) -> None:
    """int() of a Decimal with a huge exponent takes minutes; refuse it."""
    if isinstance(value, Decimal) and value.is_finite() and value.adjusted() > MAX_NUMBER_DIGITS:
        raise _LimitExceeded("The number is too large")


_PRINTF_SPEC = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")
_STRFTIME_WIDTH = re.compile(r"%[-_0^#]*(\d+)")


def _check_printf(fmt: str, args) -> None:
    for width, precision in _PRINTF_SPEC.findall(fmt):
        for number in (width, precision):
            if number == "*":
                raise _LimitExceeded("'*' widths are not allowed in templates")
            if number and int(number) > MAX_WIDTH:
                raise _LimitExceeded(f"Widths above {MAX_WIDTH} characters are not allowed")
    values = (
        args.values() if isinstance(args, dict) else args if isinstance(args, tuple) else (args,)
    )
    for value in values:
        _check_number(value)


def _check_format_spec(fmt: str) -> None:
    for _literal, field, spec, _conversion in string.Formatter().parse(fmt):
        if field is None or not spec:
            continue
        if "{" in spec:
            raise _LimitExceeded("Nested format fields are not allowed in templates")
        for number in re.findall(r"\d+", spec):
            if int(number) > MAX_WIDTH:
                raise _LimitExceeded(f"Widths above {MAX_WIDTH} characters are not allowed")


def _check_repeat(left, right) -> None:
    """Refuse 'x' * 10**9 before Python allocates it."""
    for sequence, times in ((left, right), (right, left)):
        if isinstance(sequence, (str, bytes, list, tuple)) and isinstance(times, int):
            if times > 0:
                limit = _max_size()
                _require_size(_weight(sequence, limit) * times)
            return
    if (
        isinstance(left, int)
        and isinstance(right, int)
        and left.bit_length() + right.bit_length() > MAX_INT_BITS
    ):
        raise _LimitExceeded("The number is too large")


def _check_power(base, exponent) -> None:
    if (
        isinstance(base, int)
        and isinstance(exponent, int)
        and exponent > 0
        and abs(base) > 1
        and base.bit_length() * exponent > MAX_INT_BITS
    ):
        raise _LimitExceeded("The number is too large")


def _precheck_call(obj, args: tuple, kwargs: dict) -> tuple:
    """Refuse calls of str/date methods that would build huge strings.

    Returns the (possibly materialised) positional arguments.
    """
    owner = getattr(obj, "__self__", None)
    name = getattr(obj, "__name__", "")
    if isinstance(owner, (str, bytes)):
        if name in ("center", "ljust", "rjust", "zfill"):
            _require_width(args[0] if args else kwargs.get("width"))
        elif name == "expandtabs":
            tabsize = args[0] if args else kwargs.get("tabsize", 8)
            if isinstance(tabsize, int):
                _require_width(tabsize)
        elif name == "replace" and len(args) >= 2:
            old, new = args[0], args[1]
            if isinstance(old, type(owner)) and isinstance(new, type(owner)):
                hits = owner.count(old) if old else len(owner) + 1
                _require_size(len(owner) + hits * max(len(new) - len(old), 0))
        elif name == "join" and args:
            items = list(args[0])
            limit = _max_size()
            _require_size(_weight(items, limit) + len(owner) * max(len(items) - 1, 0))
            args = (items, *args[1:])
    elif isinstance(owner, date) and name == "strftime":
        fmt = args[0] if args else kwargs.get("format", "")
        for number in _STRFTIME_WIDTH.findall(str(fmt)):
            if int(number) > MAX_WIDTH:
                raise _LimitExceeded(f"Widths above {MAX_WIDTH} characters are not allowed")
    return args


# Read-only methods of mutable containers.  An allow-list, because Jinja's
# own deny-list misses some (list.pop and list.clear in Jinja 3.1).
_READ_ONLY_METHODS = frozenset(
    """copy count index get items keys values difference intersection
    isdisjoint issubset issuperset symmetric_difference union""".split()
)
_MUTABLE_TYPES = (abc.MutableSequence, abc.MutableMapping, abc.MutableSet, bytearray)


def _modifies_data(obj, attr: str) -> bool:
    return isinstance(obj, _MUTABLE_TYPES) and attr not in _READ_ONLY_METHODS


class _Undefined(StrictUndefined):
    """StrictUndefined with messages meant for template authors."""

    __slots__ = ()

    @property
    def _undefined_message(self) -> str:
        if self._undefined_hint:
            return self._undefined_hint
        name = self._undefined_name
        if self._undefined_obj is missing:
            return f"Unknown variable {name!r}"
        kind = type(self._undefined_obj).__name__
        if isinstance(name, str):
            return f"Unknown attribute or key {name!r} on a {kind} value"
        return f"No item {name!r} in a {kind} value"


class _Hardener(NodeTransformer):
    """Adds guards to the parsed template where Jinja has no sandbox hook.

    Loop iterations check the deadline and count the loop's literal text;
    concatenations and captured blocks are size checked, because their
    results are built outside of the streamed output.
    """

    @staticmethod
    def _filter(node, name, *args, lineno=None):
        return nodes.Filter(
            node,
            name,
            [nodes.Const(arg) for arg in args],
            [],
            None,
            None,
            lineno=lineno if lineno is not None else getattr(node, "lineno", 1),
        )

    def visit_For(self, node):
        self.generic_visit(node)
        literal = sum(len(data.data) for data in node.find_all(nodes.TemplateData))
        node.iter = self._filter(node.iter, "_isp_iter", literal, lineno=node.lineno)
        return node

    def visit_Concat(self, node):
        self.generic_visit(node)
        node.nodes = [self._filter(child, "_isp_size") for child in node.nodes]
        return self._filter(node, "_isp_size")

    def visit_AssignBlock(self, node):
        self.generic_visit(node)
        node.filter = self._filter(node.filter, "_isp_size", lineno=node.lineno)
        return node

    def visit_FilterBlock(self, node):
        self.generic_visit(node)
        node.filter = self._filter(node.filter, "_isp_size", lineno=node.lineno)
        return node


class _NoTemplates(BaseLoader):
    """Reminder texts are self-contained: no include/import/extends."""

    def get_source(self, environment, template):
        raise TemplateNotFound(
            template, "Templates cannot include, import or extend other templates"
        )


class _Sandbox(ImmutableSandboxedEnvironment):
    intercepted_binops = frozenset(["*", "**", "%", "+"])

    def _parse(self, source, name, filename):
        tree = _Hardener().visit(super()._parse(source, name, filename))
        tree.set_environment(self)
        return tree

    def is_safe_attribute(self, obj, attr, value):
        return super().is_safe_attribute(obj, attr, value) and not _modifies_data(obj, attr)

    def call_binop(self, context, operator, left, right):
        _check_time()
        if operator == "*":
            _check_repeat(left, right)
        elif operator == "**":
            _check_power(left, right)
        elif operator == "%" and isinstance(left, str):
            _check_printf(left, right)
        result = super().call_binop(context, operator, left, right)
        if isinstance(result, (str, bytes, list, tuple)):
            _require_size(len(result))
        return result

    def call(self, context, obj, /, *args, **kwargs):
        _check_time()
        if not self.is_safe_callable(obj):
            raise SecurityError("Calling this function is not allowed in templates")
        args = _precheck_call(obj, args, kwargs)
        result = super().call(context, obj, *args, **kwargs)
        if isinstance(result, str):
            _require_size(len(result))
            _produce(len(result))
        return result

    def getattr(self, obj, attribute):
        _check_time()
        return super().getattr(obj, attribute)

    def getitem(self, obj, argument):
        _check_time()
        return super().getitem(obj, argument)

    def format_string(self, s, args, kwargs, format_func=None):
        _check_format_spec(s)
        result = super().format_string(s, args, kwargs, format_func)
        _require_size(len(result))
        return result

    def unsafe_undefined(self, obj, attribute):
        if not attribute.startswith("_") and _modifies_data(obj, attribute):
            hint = f"Changing data with {attribute!r} is not allowed in templates"
        else:
            hint = f"Access to {attribute!r} is not allowed in templates"
        return self.undefined(hint, obj=obj, name=attribute, exc=SecurityError)


def _lang(context, lang):
    return lang or context.get("lang") or "de"


def _defined(value):
    """Report a missing variable by name instead of failing on its type."""
    if isinstance(value, Undefined):
        value._fail_with_undefined_error()
    return value


@pass_context
def _money(context, amount, symbol="€", lang=None):
    return format_money(_defined(amount), symbol, _lang(context, lang))


@pass_context
def _date(context, value, lang=None):
    return format_date(_defined(value), _lang(context, lang))


@pass_context
def _percent(context, value, digits=2, lang=None):
    rate = round_money(_defined(value), Decimal(1).scaleb(-int(digits)))
    if str(_lang(context, lang)).lower().startswith("en"):
        return f"{rate:,}%"
    text = f"{rate:,}".translate(str.maketrans({",": ".", ".": ","}))
    return f"{text} %"


def _bounded_range(*args):
    numbers = range(*args)
    try:
        length = len(numbers)
    except OverflowError:
        length = MAX_RANGE + 1
    if length > MAX_RANGE:
        raise _LimitExceeded(f"range() is limited to {MAX_RANGE} items")
    return numbers


@pass_context
def _iter_guard(context, iterable, literal_size=0):
    for item in iterable:
        _check_time()
        _produce(literal_size)
        yield item


@pass_context
def _size_guard(context, value):
    _require_size(_text_size(value))
    return value


@pass_context
def _finalize(context, value):
    if value is None:
        return ""
    size = _text_size(value)
    _require_size(size)
    _produce(size)
    return value


@pass_eval_context
def _join(eval_ctx, value, d="", attribute=None):
    items = list(value)
    limit = _max_size()
    _require_size(_weight(items, limit) + len(str(d)) * max(len(items) - 1, 0))
    return jinja_filters.do_join(eval_ctx, items, d, attribute)


def _pre_indent(s, width=4, first=False, blank=False):
    step = len(width) if isinstance(width, str) else width
    _require_width(step)
    if isinstance(step, int):
        text_size = _text_size(s)
        _require_size(text_size)
        _require_size(text_size + (str(s).count("\n") + 1) * step)


def _pre_replace(s, old, new, count=None):
    text, old, new = str(s), str(old), str(new)
    hits = text.count(old) if old else len(text) + 1
    if isinstance(count, int) and count >= 0:
        hits = min(hits, count)
    _require_size(len(text) + hits * max(len(new) - len(old), 0))


def _pre_wordwrap(s, width=79, break_long_words=True, wrapstring=None, break_on_hyphens=True):
    text = str(s)
    lines = len(text) // max(int(width), 1) + text.count("\n") + 1
    _require_size(len(text) + lines * len(wrapstring or "\n"))


def _pre_urlize(
    value,
    trim_url_limit=None,
    nofollow=False,
    target=None,
    rel=None,
    extra_schemes=None,
):
    text = str(value)
    words = len(text.split()) + 1
    extra = 80 + len(str(target or "")) + len(str(rel or ""))
    _require_size(3 * len(text) + words * extra)


def _pre_tojson(value, indent=None):
    _require_width(indent)
    _require_size(_weight(value, _max_size()) * (1 + (indent if isinstance(indent, int) else 0)))


# Checks before a filter runs, with Jinja's signatures minus the pass-arg.
_FILTER_PRECHECKS = {
    "center": lambda value, width=80: _require_width(width),
    "indent": _pre_indent,
    "replace": _pre_replace,
    "format": lambda value, *args, **kwargs: _check_printf(str(value), args or kwargs),
    "wordwrap": _pre_wordwrap,
    "urlize": _pre_urlize,
    "tojson": _pre_tojson,
    "batch": lambda value, linecount, fill_with=None: _require_size(linecount),
    "slice": lambda value, slices, fill_with=None: _require_size(slices),
    "int": lambda value, default=0, base=10: _check_number(value),
    "round": lambda value, precision=0, method="common": _check_number(value),
}

# Filters that do not turn their whole input into text; everything else has
# its input size checked first (e.g. '|string' on a list of big strings).
_NON_TEXT_FILTERS = frozenset(
    """abs attr batch count d default dictsort first float groupby int items
    join last length list map max min random reject rejectattr reverse round
    select selectattr slice sort sum unique money date percent""".split()
)


def _guard_filter(name, func):
    precheck = _FILTER_PRECHECKS.get(name)
    offset = 1 if hasattr(func, "jinja_pass_arg") else 0
    check_input = name not in _NON_TEXT_FILTERS

    @functools.wraps(func)
    def guarded(*args, **kwargs):
        _check_time()
        if len(args) > offset:
            if check_input:
                _require_size(_text_size(args[offset]))
            if precheck is not None:
                precheck(*args[offset:], **kwargs)
        result = func(*args, **kwargs)
        if isinstance(result, str):
            _require_size(len(result))
            _produce(len(result))
        return result

    return guarded


def _make_environment(autoescape: bool) -> _Sandbox:
    env = _Sandbox(
        autoescape=autoescape,
        undefined=_Undefined,
        loader=_NoTemplates(),
        finalize=_finalize,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,
        cache_size=0,
    )
    env.filters.update(join=_join, money=_money, date=_date, percent=_percent)
    env.filters = {name: _guard_filter(name, func) for name, func in env.filters.items()}
    # internal guards inserted by _Hardener; not wrapped (no recursion)
    env.filters.update(_isp_iter=_iter_guard, _isp_size=_size_guard)
    env.globals.pop("lipsum", None)  # lipsum(n=10**9) cannot be bounded
    env.globals.update(range=_bounded_range, money=_money, date=_date, percent=_percent)
    return env


_ENVIRONMENTS = {True: _make_environment(True), False: _make_environment(False)}


@functools.lru_cache(maxsize=TEMPLATE_CACHE_SIZE)
def _compile(source: str, autoescape: bool):
    """Compiled templates, shared: thousands of notices use the same text."""
    return _ENVIRONMENTS[autoescape].from_string(source)


def _template_lineno(exc: BaseException) -> int | None:
    lineno = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == _TEMPLATE_FILENAME:
            lineno = tb.tb_lineno
        tb = tb.tb_next
    return lineno


def _problem(exc: BaseException) -> TemplateProblem:
    """Translate anything raised while compiling/rendering for the user."""
    if isinstance(exc, TemplateProblem):
        message = exc.message
        lineno = exc.lineno or _template_lineno(exc)
    elif isinstance(exc, TemplateSyntaxError):
        message, lineno = exc.message or "Syntax error", exc.lineno
    elif isinstance(exc, RecursionError):
        message = "The template calls itself too deeply (endless recursion?)"
        lineno = None
    elif isinstance(exc, MemoryError):
        message, lineno = "The template needs too much memory", None
    elif isinstance(exc, DecimalException):
        # str() of these is a list of signal classes, useless to a user
        message = f"Invalid calculation ({type(exc).__name__})"
        lineno = _template_lineno(exc)
    else:
        text = str(exc) or type(exc).__name__
        if not isinstance(exc, (UndefinedError, SecurityError, TemplateNotFound)):
            text = f"Error while rendering: {text}"
        message = text if len(text) <= 300 else text[:297] + "..."
        lineno = _template_lineno(exc)
    return TemplateProblem(message, lineno)


def check_syntax(source) -> None:
    """Raise TemplateProblem (with the line) if the template does not compile."""
    if not source:
        return
    try:
        _compile(str(source), True)
    except (TemplateError, TemplateProblem) as exc:
        raise _problem(exc) from None


def render(
    source,
    context: dict | None = None,
    *,
    html: bool,
    max_output: int = DEFAULT_MAX_OUTPUT,
    timeout: float = DEFAULT_TIMEOUT,
) -> str:
    """Render a template over plain data; any failure is a TemplateProblem."""
    if not source:
        return ""
    token = _BUDGET.set(_Budget(max_output, timeout))
    stream = None
    try:
        template = _compile(str(source), bool(html))
        stream = template.generate(dict(context or {}))
        parts, size = [], 0
        for chunk in stream:
            size += len(chunk)
            if size > max_output:
                raise _LimitExceeded(f"The text is longer than {max_output} characters")
            _check_time()
            parts.append(chunk)
        return "".join(parts)
    except (
        TemplateError,
        TemplateProblem,
        TypeError,
        ValueError,
        ArithmeticError,
        LookupError,
        AttributeError,
        RecursionError,
        MemoryError,
    ) as exc:
        raise _problem(exc) from None
    finally:
        if stream is not None:
            stream.close()
        _BUDGET.reset(token)
