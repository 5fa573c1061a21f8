"""train_clip --look: the share of each batch drawn through toon-G's look instead of augment."""
import pytest
import torch

from styleclip_zoo.toon.pool import held_out
from styleclip_zoo.toon.augment import augment, augment_generator_look
from styleclip_zoo.toon.train_clip import augment_batch


@pytest.fixture(scope="module")
def renders() -> torch.Tensor:
    images, _ = held_out(8)  # clean renders in [0, 1], as the training pool gives them
    return images


def _gen() -> torch.Generator:
    return torch.Generator().manual_seed(5)


def test_no_look_is_the_plain_augmentation(renders):
    assert torch.equal(augment_batch(renders, _gen(), 0.0), augment(renders, _gen()))


def test_the_look_share_goes_through_the_generator_look_and_the_rest_through_augment(renders):
    out = augment_batch(renders, _gen(), 0.5)
    gen = _gen()
    looked = augment_generator_look(renders[:4], gen)
    rest = augment(renders[4:], gen)
    assert torch.equal(out[:4], looked) and torch.equal(out[4:], rest)
    assert not torch.allclose(out[:4], augment(renders[:4], _gen()), atol=0.05)  # not augment's draw
    assert torch.equal(augment_batch(renders, _gen(), 1.0), augment_generator_look(renders, _gen()))


def test_a_share_outside_the_batch_is_refused(renders):
    with pytest.raises(ValueError, match="share of the batch"):
        augment_batch(renders, _gen(), 1.5)
