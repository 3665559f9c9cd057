"""analysis/behaviours.py: phrase counts on hand-written outputs, and rates per 1k tokens."""

import json

import pytest
from analysis_helpers import is_png, write_results

from analysis import behaviours
from analysis.behaviours import PHRASES, count_phrases

TEXT = ("Wait, let me check this. Alternatively, try x = 2. But wait: we verify it; double-check passes. "
        "Hmm, WAIT. Checkpoint and waiting and butter are not phrases. Let me try another way.")


def test_count_phrases_on_hand_written_text():
    counts = count_phrases(TEXT)
    assert counts["backtracking"] == {"wait": 3, "but": 1, "hmm": 1}
    assert counts["self_verification"] == {"let me check": 1, "verify": 1, "double-check": 1}
    assert counts["branching"] == {"alternatively": 1, "let me try": 1, "another way": 1}


def test_phrase_list_is_defined_once_without_duplicates():
    flat = [phrase for phrases in PHRASES.values() for phrase in phrases]
    assert len(flat) == len(set(flat))
    assert all(phrase == phrase.lower() for phrase in flat)


def test_rates_per_1k_tokens(tmp_path):
    plain = write_results(tmp_path / "plain", [["The answer is 4.", "So 6."]], num_tokens=[[300, 200]])
    reflective = write_results(tmp_path / "reflective", [[TEXT, "Wait. Verify."], ["nothing", "but"]],
                               num_tokens=[[100, 100], [100, 100]])
    out = tmp_path / "out"
    behaviours.main(["--res_dirs", str(plain), str(reflective), "--out_dir", str(out)])
    data = json.loads((out / "behaviours.json").read_text())
    rates = {(r["setting"], r["behaviour"]): r for r in data["rates"]}
    assert all(rates[("plain", b)]["count"] == 0 for b in PHRASES)
    # reflective: backtracking 5 (TEXT) + 1 ("Wait.") + 1 ("but") over 400 tokens
    assert rates[("reflective", "backtracking")]["count"] == 7
    assert rates[("reflective", "backtracking")]["per_1k_tokens"] == pytest.approx(7 / 400 * 1000)
    assert rates[("reflective", "self_verification")]["count"] == 4
    assert rates[("reflective", "branching")]["per_1k_tokens"] == pytest.approx(3 / 400 * 1000)
    assert data["phrases"] == {k: list(v) for k, v in PHRASES.items()}
    assert (out / "behaviours.csv").read_text().count("\n") == 1 + 2 * len(PHRASES)
    assert is_png(out / "behaviours.png")
