from pipeline.hints import did_you_mean


def test_names_the_closest_option_with_its_repr():
    assert (
        did_you_mean("tokenise", ["lemmatize", "tokenize", "stem"]) == "; did you mean 'tokenize'?"
    )


def test_nothing_close_gives_no_hint():
    assert did_you_mean("xyz", ["tokenize", "stem"]) == ""
    assert did_you_mean("tokenize", []) == ""


def test_accepts_any_iterable():
    assert did_you_mean("spacey", (n for n in ("regex", "spacy"))) == "; did you mean 'spacy'?"
