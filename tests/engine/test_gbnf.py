"""GBNF grammars: checked as llama.cpp does; the scripted engine generates from them."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import lmstudio
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lmstudio_async.server.engines.gbnf import GrammarError, parse_gbnf
from lmstudio_async.testing import ServerProcess

ANSWER = r"""
# A yes/no answer with a confidence, optionally shouted.
root   ::= answer " (" digits "%)" "!"?
answer ::= "yes" | "no"
digits ::= [1-9] [0-9]{0,2}
"""
ANSWER_RE = re.compile(r"(yes|no) \([1-9][0-9]{0,2}%\)!?")

JSON_LIKE = r"""
root   ::= object
value  ::= object | array | string | number | ("true" | "false" | "null")
object ::= "{" ws ( string ":" ws value ("," ws string ":" ws value)* )? "}" ws
array  ::= "[" ws ( value ("," ws value)* )? "]" ws
string ::= "\"" ( [^"\\\x7F\x00-\x1F] | "\\" (["\\/bfnrt] | "u" [0-9a-fA-F]{4}) )* "\"" ws
number ::= ("-"? ([0-9] | [1-9] [0-9]*)) ("." [0-9]+)? ([eE] [-+]? [0-9]+)? ws
ws     ::= ([ \t\n] ws)?
"""


@settings(max_examples=60)
@given(seed=st.integers(min_value=0, max_value=2**64 - 1))
def test_generated_sentences_belong_to_the_grammar(seed: int) -> None:
    assert ANSWER_RE.fullmatch(parse_gbnf(ANSWER).generate(seed))
    json.loads(parse_gbnf(JSON_LIKE).generate(seed))


def test_generation_is_deterministic_and_varies_with_the_seed() -> None:
    grammar = parse_gbnf(JSON_LIKE)
    assert grammar.generate(3) == grammar.generate(3)
    assert len({grammar.generate(seed) for seed in range(20)}) > 5


def test_deep_recursion_still_finishes() -> None:
    grammar = parse_gbnf('root ::= "(" root ")" | "x"')
    for seed in range(50):
        sentence = grammar.generate(seed)
        assert sentence.count("(") == sentence.count(")") and sentence.strip("()") == "x"


@pytest.mark.parametrize(
    ("grammar", "complaint"),
    [
        ("", "empty"),
        ('start ::= "a"', "no 'root' rule"),
        ("root ::= other", "undefined rule 'other'"),
        ('root ::= root "a" | "b"', "left-recursive"),
        ('root ::= x\nx ::= "" root', "left-recursive"),
        ('root ::= "a" root', "can never finish"),
        ('root ::= "a"{2,1}', "m <= n"),
        ('root ::= "a"{1,100000}', "m <= n <= 1024"),
        ('root ::= ("a"{1000}){1000}', "repeats too much"),
        ('root ::= "a"**', "repeated twice"),
        ('root ::= "unterminated', "unterminated string literal"),
        ("root ::= [a-", "unterminated character class"),
        ('root ::= "\\q"', "unknown escape"),
        ("root ::= <[1000]>", "token references"),
        ('root ::= * "a"', "must follow an item"),
        ('root := "a"', "expecting '::='"),
        ('root ::= ("a"', "expecting ')'"),
        ('my_rule ::= "a"', "expecting '::='"),
        ('root ::= "a"\n  | "b"', "expecting a rule name"),
        ('root ::= "a" ) "b"', "unexpected ')'"),
    ],
)
def test_bad_grammars_are_refused_with_the_reason_and_place(grammar: str, complaint: str) -> None:
    with pytest.raises(GrammarError, match=re.escape(complaint)):
        parse_gbnf(grammar)


def test_errors_say_where() -> None:
    with pytest.raises(GrammarError, match=r"line 3, column 11"):
        parse_gbnf('root ::= a\na ::= "x"\nb ::= "y" )')


def test_what_llama_cpp_accepts_is_accepted() -> None:
    for grammar in [
        'root ::= ( "a"\n  | "b" )  # alternatives may span lines inside parentheses',
        "root ::= [^\\n]+ .",
        'root ::= "\\x41\\u00e9\\U0001F600" [\\t\\r\\n\\\\\\]\\[]',
        'root ::= "a"{3} "b"{1,} "c"{0,2}',
    ]:
        parse_gbnf(grammar)


@pytest.fixture(scope="module")
def llm() -> Iterator[lmstudio.LLM]:
    with (
        ServerProcess("--load", "llama-3.2-1b-instruct") as server,
        lmstudio.Client(server.api_host) as client,
    ):
        yield client.llm.model("llama-3.2-1b-instruct")


def test_the_scripted_engine_honours_gbnf_through_the_official_client(llm: lmstudio.LLM) -> None:
    for prompt in ("Is water wet?", "Is fire cold?", "Are cats dogs?"):
        result = llm.respond(prompt, response_format={"type": "gbnf", "gbnfGrammar": ANSWER})
        assert ANSWER_RE.fullmatch(result.content), result.content


def test_a_bad_grammar_is_a_clear_server_error(llm: lmstudio.LLM) -> None:
    with pytest.raises(lmstudio.LMStudioServerError, match=r"Invalid GBNF grammar.*line 1"):
        llm.respond("Hi", response_format={"type": "gbnf", "gbnfGrammar": 'root ::= "a"{2,1}'})
    assert llm.respond("Hi").content
