import torch
import torch.nn.functional as F
from omegaconf import OmegaConf

from conftest import REPO
from crnn_pl.training.losses import CTCLoss, FocalCTCLoss, build_loss


def ctc_batch(seed: int = 0):
    generator = torch.Generator().manual_seed(seed)
    logits = torch.randn(4, 12, 6, generator=generator, requires_grad=True)
    targets = torch.tensor([1, 2, 3, 4, 5, 1, 1, 2, 3, 4])
    target_lengths = torch.tensor([3, 2, 2, 3])
    input_lengths = torch.full((4,), 12)
    return logits, targets, input_lengths, target_lengths


def test_focal_ctc_equals_ctc_at_gamma_zero_alpha_one():
    batch = ctc_batch()
    ctc = CTCLoss()(*batch)
    focal = FocalCTCLoss(alpha=1.0, gamma=0.0)(*batch)
    torch.testing.assert_close(focal, ctc)


def test_focal_ctc_down_weights_easy_samples():
    """The configured focal CTC (conf/loss/focal_ctc.yaml) against the definition, computed here
    from PyTorch's own per-sample CTC: alpha * (1 - p)^gamma * L with p = exp(-L), each sample
    divided by its target length and averaged over the batch (PyTorch's 'mean' reduction)."""
    config = OmegaConf.load(REPO / "conf" / "loss" / "focal_ctc.yaml")
    alpha, gamma = float(config.alpha), float(config.gamma)
    assert (alpha, gamma) != (1.0, 0.0)          # otherwise this is plain CTC, tested above
    logits, targets, input_lengths, target_lengths = ctc_batch()
    # Sample 0 easy: strongly predict its alignment "1 _ 2 _ 3 ...". Sample 1 middling: a
    # moderate lead for "4 4 _ _ 5 5 _ ...", so (1 - p)^gamma is far from both 0 and 1 and gamma
    # matters. Samples 2 and 3 keep random scores: hard.
    scores = logits.detach().clone()
    scores[0] = -10.0
    scores[0, torch.arange(12), torch.tensor([1, 0, 2, 0, 3] + [0] * 7)] = 10.0
    scores[1] = 0.0
    scores[1, torch.arange(12), torch.tensor([4, 4, 0, 0, 5, 5] + [0] * 6)] = 4.0

    log_probs = F.log_softmax(scores, dim=-1).transpose(0, 1)          # (T, N, C), as ctc_loss wants
    ctc = F.ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction="none")
    p = torch.exp(-ctc)
    weights = alpha * (1 - p) ** gamma
    expected = (weights * ctc / target_lengths).mean()

    assert ctc[0] < 0.01 and 0.3 < p[1] < 0.7 and ctc[2:].min() > 5
    # The easy sample keeps almost none of its loss, the middling one part, the hard ones all
    # of alpha's share.
    assert weights[0] < 1e-3 * alpha
    assert 0.1 * alpha < weights[1] < 0.7 * alpha
    assert weights[2:].min() > 0.99 * alpha
    loss = build_loss(config.name, alpha=config.alpha, gamma=config.gamma)
    torch.testing.assert_close(loss(scores, targets, input_lengths, target_lengths), expected)
    # and not plain CTC: the weighting really applies
    plain = F.ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction="mean")
    assert not torch.allclose(expected, plain)
    torch.testing.assert_close(CTCLoss()(scores, targets, input_lengths, target_lengths), plain)


def test_ctc_runs_in_float32_under_autocast():
    logits, targets, input_lengths, target_lengths = ctc_batch()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        loss = build_loss("focal_ctc")(logits.bfloat16(), targets, input_lengths, target_lengths)
    assert loss.dtype == torch.float32
    loss.backward()
    assert torch.isfinite(logits.grad).all()


def test_infeasible_alignment_gives_zero_not_inf():
    logits = torch.randn(1, 3, 5)
    loss = CTCLoss()(logits, torch.tensor([1, 2, 3, 4]), torch.tensor([3]), torch.tensor([4]))
    assert torch.isfinite(loss) and loss == 0
