import numpy as np
import pandas as pd

from seqsal.seqlets import (
    bed_to_offsets,
    benjamini_hochberg,
    call_seqlets,
    null_p_values,
    offsets_to_genome,
    seqlets_to_bed,
)


def noisy_attr(n=300, length=100, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(0, 0.05, size=(n, length))


def test_planted_blocks_are_found_in_both_signs():
    attr = noisy_attr()
    attr[::3, 40:48] += 1.0
    attr[1::3, 60:68] -= 1.0
    seqlets = call_seqlets(attr, window=8, alpha=0.05)
    hits = seqlets.set_index("region_index")
    for i in range(0, 300, 3):
        assert i in hits.index and abs(hits.loc[[i], "offset"] - 40).min() <= 2
    negative = seqlets[seqlets["attr_sum"] < 0].set_index("region_index")
    for i in range(1, 300, 3):
        assert i in negative.index and abs(negative.loc[[i], "offset"] - 60).min() <= 2
    false = (seqlets["region_index"] % 3 == 2).sum()
    assert false <= 0.1 * len(seqlets)  # the FDR is near its 5% in the pure-noise regions
    assert (seqlets["q_value"] < 0.05).all() and (seqlets["p_value"] <= seqlets["q_value"]).all()


def test_pure_noise_gives_no_seqlets_even_when_correlated_or_heavy_tailed():
    from scipy.ndimage import uniform_filter1d

    rng = np.random.default_rng(2)
    for attr in (
        rng.normal(size=(2000, 100)),
        rng.laplace(size=(2000, 100)),
        uniform_filter1d(rng.normal(size=(2000, 100)), 5, axis=1),
    ):
        assert len(call_seqlets(attr, alpha=0.05)) <= 5


def test_memory_mapped_attributions_and_a_subsampled_null(tmp_path):
    """A memory-mapped ``attr`` (read by row blocks) gives the same seqlets as in memory;
    a null drawn from a third of the regions still finds every planted block."""
    from seqsal.io import read_shards, write_npz

    attr = noisy_attr().astype(np.float32)
    attr[::3, 40:48] += 1.0
    names = np.array([f"r{i}" for i in range(len(attr))])  # an attribution shard's arrays
    write_npz(tmp_path / "a.npz", attr=attr, pred=np.zeros((len(attr), 1), np.float32), names=names)
    stack = read_shards([tmp_path / "a.npz"], mmap_key="attr")["attr"]
    assert not isinstance(stack, np.ndarray)
    expected = call_seqlets(attr, window=8, alpha=0.05)
    pd.testing.assert_frame_equal(call_seqlets(stack, window=8, alpha=0.05), expected)
    subsampled = call_seqlets(attr, window=8, null_bases=100 * attr.shape[1], alpha=0.05)
    planted = subsampled[subsampled["region_index"] % 3 == 0]
    assert set(planted["region_index"]) == set(range(0, 300, 3))
    assert (subsampled["region_index"] % 3 == 2).sum() <= 0.1 * len(subsampled)


def test_a_shuffled_null_finds_the_planted_blocks_and_controls_the_fdr():
    """Against attributions of motif-free sequences (here: fresh noise, as attributions
    of shuffled regions are), the share of noise among the calls is alpha on average
    (the bootstrap null's is several times alpha on correlated maps)."""
    shares = []
    for seed in range(4):
        rng = np.random.default_rng(seed)
        null = rng.laplace(0, 0.05, size=(2000, 100))
        attr = rng.laplace(0, 0.05, size=(2000, 100))
        attr[::4, 30:40] += rng.uniform(0.1, 1.0, size=(500, 1))
        seqlets = call_seqlets(attr, null_attr=null, alpha=0.05)
        planted = (seqlets["region_index"] % 4 == 0) & (abs(seqlets["offset"] - 30) <= 5)
        assert planted.sum() >= 475 and (seqlets["q_value"] < 0.05).all()
        shares.append((~planted).mean())
    assert np.mean(shares) <= 0.065 and max(shares) <= 0.1
    # each region is read on its own scale: scaling some regions' maps changes nothing
    scaled = attr * np.where(np.arange(len(attr)) % 3 == 0, 20.0, 1.0)[:, None]
    again = call_seqlets(scaled, null_attr=null, alpha=0.05)
    np.testing.assert_array_equal(again["offset"], seqlets["offset"])
    np.testing.assert_allclose(again["q_value"], seqlets["q_value"])
    # noise alone, and the null's own rows, give next to nothing
    assert len(call_seqlets(rng.laplace(0, 0.05, size=(2000, 100)), null_attr=null)) <= 2
    assert len(call_seqlets(null, null_attr=null)) == 0  # at the default alpha, 0.2


def test_region_scales_skip_zero_bases():
    from seqsal.seqlets import region_scales

    rng = np.random.default_rng(0)
    attr = rng.normal(0, 2.0, size=(3, 4000))
    attr[1, 1000:] = 0  # N padding: exactly zero
    attr[2] = 0
    scales = region_scales(attr)[:, 0]
    np.testing.assert_allclose(scales[:2], 2.0, rtol=0.1)
    assert scales[2] == np.inf


def test_null_p_values_are_empirical_then_an_exponential_tail():
    null = np.sort(np.random.default_rng(0).exponential(1.0, size=100_000))
    p = null_p_values(np.array([0.0, 1.0, 3.0, 20.0, 30.0]), null)
    assert p[0] == 1.0 and np.all(np.diff(p) < 0)
    np.testing.assert_allclose(p[1:3], np.exp(-np.array([1.0, 3.0])), rtol=0.05)
    # past the whole null: the fitted tail, not a floor at 1 / (n + 1)
    assert p[3] < 1 / (1 + len(null)) and p[4] < p[3]
    assert abs(np.log(p[3]) + 20) < 1  # within a factor e of the true exp(-20)
    # a null with no spread beyond its top: empirical only
    flat = np.zeros(1000)
    assert null_p_values(np.array([1.0]), flat)[0] == 1 / 1001


def test_all_zero_attributions_give_no_seqlets():
    assert len(call_seqlets(np.zeros((50, 100)))) == 0


def test_seed_reproduces():
    attr = noisy_attr(seed=2)
    attr[:50, 10:20] += 1
    pd.testing.assert_frame_equal(call_seqlets(attr, seed=5), call_seqlets(attr, seed=5))


def test_benjamini_hochberg_known_values():
    q = benjamini_hochberg(np.array([0.01, 0.04, 0.03, 0.5]))
    np.testing.assert_allclose(q, [0.04, 0.16 / 3, 0.16 / 3, 0.5])
    assert (q >= [0.01, 0.04, 0.03, 0.5]).all()


def test_offsets_map_to_genome_on_both_strands_and_back():
    regions = pd.DataFrame(
        {
            "chrom": ["c", "c"],
            "start": [100, 200],
            "end": [150, 250],
            "name": ["plus", "minus"],
            "score": 0,
            "strand": ["+", "-"],
        }
    )
    starts, ends = offsets_to_genome(regions, [0, 1], [3, 3], 5)
    assert starts.tolist() == [103, 242] and ends.tolist() == [108, 247]
    seqlets = pd.DataFrame(
        {
            "region_index": [0, 1],
            "offset": [3, 3],
            "attr_sum": [1.0, -1.0],
            "p_value": [1e-4, 1e-3],
            "q_value": [1e-3, 1e-2],
        }
    )
    bed = seqlets_to_bed(seqlets, regions, window=5)
    assert bed["name"].tolist() == ["plus:0", "minus:0"] and bed["score"].tolist() == [300, 200]
    index, offset = bed_to_offsets(bed, regions)
    assert index.tolist() == [0, 1] and offset.tolist() == [3, 3]
