import torch

from crnn_pl.losses import CTCLoss, FocalCTCLoss, build_loss


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
    logits, targets, input_lengths, target_lengths = ctc_batch()
    # Make sample 0 easy: strongly predict its alignment "1 _ 2 _ 3 ...".
    easy = logits.detach().clone()
    easy[0] = -10.0
    path = [1, 0, 2, 0, 3] + [0] * 7
    easy[0, torch.arange(12), torch.tensor(path)] = 10.0
    ctc = CTCLoss().per_sample(easy, targets, input_lengths, target_lengths)
    focal_loss = FocalCTCLoss(alpha=1.0, gamma=2.0)
    weights = (1 - torch.exp(-ctc)) ** 2
    assert ctc[0] < 0.01 < ctc[1:].min()
    # The easy sample keeps almost none of its loss, the hard ones most of theirs.
    assert weights[0] < 1e-3
    assert weights[1:].min() > 0.5
    total = focal_loss(easy, targets, input_lengths, target_lengths)
    expected = (weights * ctc / target_lengths).mean()
    torch.testing.assert_close(total, expected)


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
