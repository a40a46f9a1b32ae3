import numpy as np
import pytest

from seqsal.encode import encode_regions, one_hot_encode, one_hot_to_sequences, reverse_complement


def test_round_trip():
    sequences = ["ACGTNACGTA", "TTTTGGGGCC"]
    assert one_hot_to_sequences(one_hot_encode(sequences)) == sequences


def test_shape_dtype_and_order():
    X = one_hot_encode(["ACGT"])
    assert X.shape == (1, 4, 4) and X.dtype == np.uint8
    np.testing.assert_array_equal(X[0], np.eye(4, dtype=np.uint8))


def test_n_and_iupac_are_zero_columns_never_dropped():
    X = one_hot_encode(["ANRYKMSWBDHVA"])
    assert X.shape[-1] == 13
    assert X[0, :, 1:-1].sum() == 0
    assert X[0, :, 0].sum() == 1 and X[0, :, -1].sum() == 1


def test_lowercase_is_uppercased():
    np.testing.assert_array_equal(one_hot_encode(["acgtn"]), one_hot_encode(["ACGTN"]))


def test_reverse_complement_is_an_involution_and_complements():
    X = one_hot_encode(["AACGTN"])
    assert one_hot_to_sequences(reverse_complement(X)) == ["NACGTT"]
    np.testing.assert_array_equal(reverse_complement(reverse_complement(X)), X)


def test_minus_strand_regions_are_reverse_complemented():
    X = encode_regions(["AAAC", "AAAC", "AAAC"], ["+", "-", "."])
    assert one_hot_to_sequences(X) == ["AAAC", "GTTT", "AAAC"]


def test_unequal_lengths_are_refused():
    with pytest.raises(ValueError, match="expected one length"):
        one_hot_encode(["ACG", "AC"])


def test_dinucleotide_shuffle_keeps_counts_ends_and_is_seeded():
    from collections import Counter

    from seqsal.encode import dinucleotide_shuffle

    def pairs(s):
        return Counter(s[i : i + 2] for i in range(len(s) - 1))

    rng = np.random.default_rng(0)
    for _ in range(50):
        s = "".join(rng.choice(list("ACGTN"), size=int(rng.integers(3, 80))))
        t = dinucleotide_shuffle(s, rng=rng)
        assert pairs(t) == pairs(s) and t[0] == s[0] and t[-1] == s[-1]
    s = "ACGTTGCAAGGCTTACGATCGATCGGGCTAAC" * 3
    a = dinucleotide_shuffle(s, rng=np.random.default_rng(1))
    assert a == dinucleotide_shuffle(s, rng=np.random.default_rng(1)) and a != s


def test_shard_arrays_keep_the_regions_order_and_split_helpers_apart():
    import pandas as pd

    from seqsal.encode import build_shard_arrays

    regions = pd.DataFrame({"name": ["b", "a"], "chrom": ["c2", "c1"]})
    labels = pd.DataFrame(
        {"y1": [1.0, 2.0], "y2": [0.0, 1.0], "family": ["f1", "f2"]}, index=["a", "b"]
    )
    arrays = build_shard_arrays(regions, labels, group_by="family")
    assert arrays["names"].tolist() == ["b", "a"] and arrays["chroms"].tolist() == ["c2", "c1"]
    assert arrays["targets"].tolist() == ["y1", "y2"]
    np.testing.assert_array_equal(arrays["y"], [[2.0, 1.0], [1.0, 0.0]])
    assert arrays["y"].dtype == np.float32 and arrays["groups"].tolist() == ["f2", "f1"]
    assert "split" not in arrays
    assert sorted(build_shard_arrays(regions)) == ["chroms", "names"]
