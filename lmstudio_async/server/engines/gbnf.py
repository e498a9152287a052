"""GBNF grammars (llama.cpp's structured-output format): a parser, a checker and a generator.

The parser follows llama.cpp's grammar syntax, and is no more lenient than it,
so that a grammar it accepts never reaches llama.cpp's own parser in a state
that parser would reject (which can take the process down). Supported:

- rules ``name ::= alternatives``, one per line (names: letters, digits, ``-``);
  inside parentheses, alternatives may span lines; ``#`` starts a comment;
- string literals ``"..."`` and character classes ``[a-z0-9_]``, ``[^"\\\\]``,
  with the escapes ``\\t \\r \\n \\\\ \\" \\[ \\] \\xHH \\uHHHH \\UHHHHHHHH``;
- ``.`` (any character), rule references, groups ``( ... )``, alternatives ``|``;
- repetition ``*``, ``+``, ``?``, ``{m}``, ``{m,}``, ``{m,n}``.

Not supported (refused with a clear error): token references such as ``<[1000]>``
and ``<think>``-style token names.

:func:`parse_gbnf` also checks what llama.cpp checks before using a grammar:
a ``root`` rule, no undefined rules, no left recursion, and (beyond llama.cpp)
that every rule can finish. :meth:`Grammar.generate` produces a random sentence
of the grammar: the scripted engine's reply under a GBNF constraint.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

__all__ = ["Grammar", "GrammarError", "parse_gbnf", "MAX_GRAMMAR_CHARACTERS"]

#: Larger grammars are refused before parsing (a request's grammar is client input).
MAX_GRAMMAR_CHARACTERS = 256 * 1024
_MAX_NESTING = 64
_MAX_RULES = 1000
#: llama.cpp expands ``x{m,n}`` into copies of ``x``: the copies of a rule's items, nested
#: repetitions multiplied, may add up to this at most.
_MAX_EXPANDED_ITEMS = 100_000
_MAX_REPEAT = 1024
#: Beyond this depth or output length, generation takes the shortest way out.
_GENERATE_DEPTH = 24
_GENERATE_LENGTH = 2_000


class GrammarError(ValueError):
    """The grammar is not valid GBNF, or cannot be used; the message says where and why."""


@dataclass(frozen=True)
class Literal:
    text: str


@dataclass(frozen=True)
class CharClass:
    ranges: tuple[tuple[str, str], ...]
    negated: bool


@dataclass(frozen=True)
class AnyChar:
    pass


@dataclass(frozen=True)
class RuleRef:
    name: str


@dataclass(frozen=True)
class Group:
    alternatives: tuple[tuple[Element, ...], ...]


@dataclass(frozen=True)
class Repeat:
    element: Element
    minimum: int
    maximum: int | None


Element = Literal | CharClass | AnyChar | RuleRef | Group | Repeat
Alternatives = tuple[tuple[Element, ...], ...]


def _is_name_char(char: str) -> bool:
    return char == "-" or ("a" <= char <= "z") or ("A" <= char <= "Z") or ("0" <= char <= "9")


_ESCAPES = {"t": "\t", "r": "\r", "n": "\n", "\\": "\\", '"': '"', "[": "[", "]": "]"}
_HEX_DIGITS = {"x": 2, "u": 4, "U": 8}


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.rules: dict[str, Alternatives] = {}
        self.depth = 0

    def fail(self, position: int, message: str) -> GrammarError:
        line = self.text.count("\n", 0, position) + 1
        column = position - (self.text.rfind("\n", 0, position) + 1) + 1
        return GrammarError(f"{message} (line {line}, column {column})")

    def peek(self, position: int) -> str:
        return self.text[position] if position < len(self.text) else ""

    def skip_space(self, position: int, newline_ok: bool) -> int:
        text = self.text
        while position < len(text):
            char = text[position]
            if char == "#":
                while position < len(text) and text[position] not in "\r\n":
                    position += 1
            elif char in " \t" or (newline_ok and char in "\r\n"):
                position += 1
            else:
                break
        return position

    def parse(self) -> dict[str, Alternatives]:
        position = self.skip_space(0, True)
        while position < len(self.text):
            position = self.parse_rule(position)
        return self.rules

    def parse_name(self, position: int) -> tuple[str, int]:
        end = position
        while end < len(self.text) and _is_name_char(self.text[end]):
            end += 1
        if end == position:
            raise self.fail(position, "expecting a rule name (letters, digits and '-')")
        return self.text[position:end], end

    def parse_rule(self, position: int) -> int:
        name, position = self.parse_name(position)
        position = self.skip_space(position, False)
        if not self.text.startswith("::=", position):
            raise self.fail(position, f"expecting '::=' after the rule name {name!r}")
        position = self.skip_space(position + 3, True)
        alternatives, position = self.parse_alternatives(position, nested=False)
        if position < len(self.text):
            if self.text.startswith("\r\n", position):
                position += 2
            elif self.text[position] in "\r\n":
                position += 1
            else:
                raise self.fail(position, f"unexpected {self.text[position]!r}")
        self.rules[name] = alternatives
        return self.skip_space(position, True)

    def parse_alternatives(self, position: int, nested: bool) -> tuple[Alternatives, int]:
        sequences = []
        sequence, position = self.parse_sequence(position, nested)
        sequences.append(sequence)
        while self.peek(position) == "|":
            position = self.skip_space(position + 1, True)
            sequence, position = self.parse_sequence(position, nested)
            sequences.append(sequence)
        return tuple(sequences), position

    def parse_sequence(self, position: int, nested: bool) -> tuple[tuple[Element, ...], int]:
        elements: list[Element] = []
        while position < len(self.text):
            char = self.text[position]
            element: Element
            if char == '"':
                element, position = self.parse_literal(position + 1)
            elif char == "[":
                element, position = self.parse_class(position + 1)
            elif char == ".":
                element, position = AnyChar(), position + 1
            elif _is_name_char(char):
                name, position = self.parse_name(position)
                element = RuleRef(name)
            elif char == "(":
                self.depth += 1
                if self.depth > _MAX_NESTING:
                    raise self.fail(position, f"groups nested more than {_MAX_NESTING} deep")
                position = self.skip_space(position + 1, True)
                alternatives, position = self.parse_alternatives(position, nested=True)
                if self.peek(position) != ")":
                    raise self.fail(position, "expecting ')'")
                self.depth -= 1
                element, position = Group(alternatives), position + 1
            elif char in "*+?{":
                if not elements:
                    raise self.fail(position, f"{char!r} must follow an item to repeat")
                elements[-1], position = self.parse_repeat(elements[-1], position)
                position = self.skip_space(position, nested)
                continue
            elif char == "<":
                raise self.fail(position, "token references (<...>) are not supported")
            else:
                break
            elements.append(element)
            position = self.skip_space(position, nested)
        return tuple(elements), position

    def parse_repeat(self, element: Element, position: int) -> tuple[Element, int]:
        char = self.text[position]
        if isinstance(element, Repeat):
            raise self.fail(position, "an item is repeated twice; wrap it in parentheses first")
        if char == "*":
            return Repeat(element, 0, None), position + 1
        if char == "+":
            return Repeat(element, 1, None), position + 1
        if char == "?":
            return Repeat(element, 0, 1), position + 1
        close = self.text.find("}", position)
        if close < 0:
            raise self.fail(position, "expecting '}'")
        body = self.text[position + 1 : close].replace(" ", "")
        low_text, comma, high_text = body.partition(",")
        if not low_text.isdigit() or (high_text and not high_text.isdigit()):
            raise self.fail(position, "expecting {m}, {m,} or {m,n} with whole numbers")
        low = int(low_text)
        high: int | None = low if not comma else (int(high_text) if high_text else None)
        if (high is not None and high < low) or max(low, high or 0) > _MAX_REPEAT:
            raise self.fail(position, f"repetition bounds must satisfy m <= n <= {_MAX_REPEAT}")
        return Repeat(element, low, high), close + 1

    def parse_char(self, position: int) -> tuple[str, int]:
        char = self.peek(position)
        if not char:
            raise self.fail(position, "unexpected end of the grammar")
        if char != "\\":
            return char, position + 1
        escape = self.peek(position + 1)
        if escape in _ESCAPES:
            return _ESCAPES[escape], position + 2
        digits = _HEX_DIGITS.get(escape)
        if digits is None:
            raise self.fail(position, f"unknown escape '\\{escape}'")
        hex_text = self.text[position + 2 : position + 2 + digits]
        try:
            code = int(hex_text, 16)
            if len(hex_text) != digits:
                raise ValueError
            return chr(code), position + 2 + digits
        except ValueError:
            raise self.fail(position, f"'\\{escape}' needs {digits} hex digits") from None

    def parse_literal(self, position: int) -> tuple[Literal, int]:
        chars = []
        while self.peek(position) != '"':
            if self.peek(position) in ("", "\n", "\r"):
                raise self.fail(position, "unterminated string literal")
            char, position = self.parse_char(position)
            chars.append(char)
        return Literal("".join(chars)), position + 1

    def parse_class(self, position: int) -> tuple[CharClass, int]:
        negated = self.peek(position) == "^"
        if negated:
            position += 1
        ranges = []
        while self.peek(position) != "]":
            if self.peek(position) in ("", "\n", "\r"):
                raise self.fail(position, "unterminated character class")
            low, position = self.parse_char(position)
            high = low
            if self.peek(position) == "-" and self.peek(position + 1) not in ("]", ""):
                high, position = self.parse_char(position + 1)
                if high < low:
                    raise self.fail(position, f"empty character range {low!r}-{high!r}")
            ranges.append((low, high))
        return CharClass(tuple(ranges), negated), position + 1


@dataclass
class Grammar:
    """A checked GBNF grammar; ``text`` is what was parsed (llama.cpp gets it as-is)."""

    text: str
    rules: dict[str, Alternatives]
    _shortest: dict[str, int] = field(default_factory=dict, repr=False)

    def generate(self, seed: int) -> str:
        """A random sentence of the grammar, deterministic for ``seed``, kept short."""
        run = _Generation(self, random.Random(seed))
        try:
            run.expand_alternatives(self.rules["root"], 0)
        except RecursionError:
            raise GrammarError("the grammar nests too deeply to generate from") from None
        return "".join(run.out)

    # -- shortest expansions, for termination -------------------------------------------------

    def _sequence_cost(self, sequence: tuple[Element, ...]) -> int:
        return min(_INFINITE, sum(self._cost(element) for element in sequence))

    def _cost(self, element: Element) -> int:
        if isinstance(element, Literal):
            return len(element.text)
        if isinstance(element, (CharClass, AnyChar)):
            return 1
        if isinstance(element, RuleRef):
            return self._shortest.get(element.name, _INFINITE)
        if isinstance(element, Group):
            return min(self._sequence_cost(a) for a in element.alternatives)
        return min(_INFINITE, element.minimum * self._cost(element.element))

    def _compute_shortest(self) -> None:
        # Fixpoint: a rule's shortest expansion, from the rules already known to finish.
        changed = True
        while changed:
            changed = False
            for name, alternatives in self.rules.items():
                cost = min(self._sequence_cost(a) for a in alternatives)
                if cost < self._shortest.get(name, _INFINITE):
                    self._shortest[name] = cost
                    changed = True


_INFINITE = 10**9


class _Generation:
    """One random walk through a grammar: free choices while short, then the shortest way out."""

    def __init__(self, grammar: Grammar, rng: random.Random) -> None:
        self.grammar = grammar
        self.rng = rng
        self.out: list[str] = []
        self.length = 0

    def emit(self, text: str) -> None:
        self.out.append(text)
        self.length += len(text)

    def free(self, depth: int) -> bool:
        return depth <= _GENERATE_DEPTH and self.length <= _GENERATE_LENGTH

    def expand_alternatives(self, alternatives: Alternatives, depth: int) -> None:
        cost = self.grammar._sequence_cost
        if self.free(depth):
            chosen = self.rng.choice([a for a in alternatives if cost(a) < _INFINITE])
        else:
            chosen = min(alternatives, key=cost)
        for element in chosen:
            self.expand(element, depth + 1)

    def expand(self, element: Element, depth: int) -> None:
        if isinstance(element, Literal):
            self.emit(element.text)
        elif isinstance(element, CharClass):
            self.emit(_pick_char(element, self.rng))
        elif isinstance(element, AnyChar):
            self.emit(self.rng.choice("abcdefghijklmnopqrstuvwxyz"))
        elif isinstance(element, RuleRef):
            self.expand_alternatives(self.grammar.rules[element.name], depth)
        elif isinstance(element, Group):
            self.expand_alternatives(element.alternatives, depth)
        else:
            count = element.minimum
            if self.free(depth):
                extra = 3 if element.maximum is None else element.maximum - element.minimum
                count += self.rng.randint(0, min(extra, 3))
            for _ in range(count):
                self.expand(element.element, depth + 1)


def _pick_char(element: CharClass, rng: random.Random) -> str:
    if not element.negated:
        low, high = rng.choice(element.ranges)
        return chr(rng.randint(ord(low), ord(high)))
    allowed = [
        char
        for char in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,-"
        if not any(low <= char <= high for low, high in element.ranges)
    ]
    return rng.choice(allowed) if allowed else "\u00e9"


def _references(alternatives: Alternatives) -> set[str]:
    found: set[str] = set()
    stack: list[Element] = [e for sequence in alternatives for e in sequence]
    while stack:
        element = stack.pop()
        if isinstance(element, RuleRef):
            found.add(element.name)
        elif isinstance(element, Group):
            stack.extend(e for sequence in element.alternatives for e in sequence)
        elif isinstance(element, Repeat):
            stack.append(element.element)
    return found


def _can_be_empty(element: Element, empty_rules: set[str]) -> bool:
    if isinstance(element, Literal):
        return not element.text
    if isinstance(element, (CharClass, AnyChar)):
        return False
    if isinstance(element, RuleRef):
        return element.name in empty_rules
    if isinstance(element, Group):
        return any(all(_can_be_empty(e, empty_rules) for e in s) for s in element.alternatives)
    return element.minimum == 0 or _can_be_empty(element.element, empty_rules)


def _leading(alternatives: Alternatives, empty_rules: set[str]) -> set[str]:
    """Rules that can come first in a sentence of ``alternatives`` (for left recursion)."""
    found: set[str] = set()
    for sequence in alternatives:
        for element in sequence:
            inner: Element = element
            while isinstance(inner, Repeat):
                inner = inner.element
            if isinstance(inner, RuleRef):
                found.add(inner.name)
            elif isinstance(inner, Group):
                found |= _leading(inner.alternatives, empty_rules)
            if not _can_be_empty(element, empty_rules):
                break
    return found


def _expanded_size(alternatives: Alternatives) -> int:
    return sum(_element_size(element) for sequence in alternatives for element in sequence)


def _element_size(element: Element) -> int:
    if isinstance(element, Group):
        return 1 + _expanded_size(element.alternatives)
    if isinstance(element, Repeat):
        copies = max(element.minimum, element.maximum or 0, 1)
        return 1 + copies * _element_size(element.element)
    return 1


def parse_gbnf(text: str) -> Grammar:
    """Parse and check ``text``; :class:`GrammarError` says what is wrong and where."""
    if not isinstance(text, str) or not text.strip():
        raise GrammarError("the grammar is empty; it needs at least a 'root ::= ...' rule")
    if len(text) > MAX_GRAMMAR_CHARACTERS:
        raise GrammarError(f"the grammar is longer than {MAX_GRAMMAR_CHARACTERS} characters")
    rules = _Parser(text).parse()
    if len(rules) > _MAX_RULES:
        raise GrammarError(f"the grammar has more than {_MAX_RULES} rules")
    if "root" not in rules:
        raise GrammarError("the grammar has no 'root' rule (where every sentence starts)")
    for name, alternatives in rules.items():
        undefined = sorted(_references(alternatives) - rules.keys())
        if undefined:
            raise GrammarError(f"rule {name!r} uses undefined rule {undefined[0]!r}")
    empty_rules: set[str] = set()
    changed = True
    while changed:
        changed = False
        for name, alternatives in rules.items():
            if name not in empty_rules and any(
                all(_can_be_empty(e, empty_rules) for e in s) for s in alternatives
            ):
                empty_rules.add(name)
                changed = True
    leading = {name: _leading(alternatives, empty_rules) for name, alternatives in rules.items()}
    for name in rules:
        seen: set[str] = set()
        stack = list(leading[name])
        while stack:
            other = stack.pop()
            if other == name:
                raise GrammarError(f"rule {name!r} is left-recursive, which llama.cpp refuses")
            if other not in seen:
                seen.add(other)
                stack.extend(leading[other])
    for name, alternatives in rules.items():
        if _expanded_size(alternatives) > _MAX_EXPANDED_ITEMS:
            raise GrammarError(
                f"rule {name!r} repeats too much: its repetitions expand to more than "
                f"{_MAX_EXPANDED_ITEMS} items"
            )
    grammar = Grammar(text, rules)
    grammar._compute_shortest()
    stuck = sorted(name for name in rules if name not in grammar._shortest)
    if stuck:
        raise GrammarError(f"rule {stuck[0]!r} can never finish (every alternative recurses)")
    return grammar
