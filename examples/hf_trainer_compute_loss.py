"""An npgrad loss in a Hugging Face ``Trainer``, through a ``compute_loss`` override.

A tiny BERT classifier is built from a ``BertConfig`` in code (random weights,
nothing downloaded) and fine-tuned for a few steps on synthetic token sequences.
``NpgradTrainer.compute_loss`` takes the logits and applies
``npgrad.losses.cross_entropy`` (plain NumPy, automatic gradients).  A stock
``Trainer`` (the model's own ``CrossEntropyLoss``) trained from the same start must
end with the same parameters (exit status 1 otherwise).  Without ``transformers``
and ``accelerate`` installed, the script prints why it skips and exits 0.

    python examples/hf_trainer_compute_loss.py [--quick] [--seed 0] [--device cpu]
"""

from __future__ import annotations

import argparse
import copy
import sys
import tempfile

import torch

import npgrad

try:
    import accelerate  # noqa: F401  (Trainer needs it)
    import transformers
except ImportError as e:
    transformers, missing = None, e.name


class Sequences(torch.utils.data.Dataset):
    """Random token sequences; the label is the first token modulo 3."""

    def __init__(self, n, length=12, vocab=50, seed=0):
        gen = torch.Generator().manual_seed(seed)
        self.ids = torch.randint(1, vocab, (n, length), generator=gen)

    def __len__(self):
        return len(self.ids)

    def __getitem__(self, i):
        ids = self.ids[i]
        return {"input_ids": ids, "attention_mask": torch.ones_like(ids), "labels": ids[0] % 3}


if transformers is not None:

    class NpgradTrainer(transformers.Trainer):
        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            labels = inputs.pop("labels")
            outputs = model(**inputs)
            loss = npgrad.losses.cross_entropy(outputs.logits, labels)  # NumPy code
            return (loss, outputs) if return_outputs else loss


def train(trainer_class, model, data, steps, seed, device, out_dir):
    args = transformers.TrainingArguments(
        output_dir=out_dir,
        max_steps=steps,
        per_device_train_batch_size=16,
        learning_rate=1e-3,
        seed=seed,
        use_cpu=device == "cpu",
        report_to=[],
        save_strategy="no",
        logging_strategy="no",
        disable_tqdm=True,
    )
    trainer = trainer_class(model=model, args=args, train_dataset=data)
    trainer.remove_callback(transformers.PrinterCallback)  # no metrics dict on stdout
    return model, trainer.train().training_loss


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few steps (for CI)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    if transformers is None:
        print(f"SKIP: {missing} is not installed (pip install transformers accelerate)")
        return 0
    transformers.logging.set_verbosity_error()
    torch.manual_seed(args.seed)
    steps = 6 if args.quick else 200

    config = transformers.BertConfig(
        vocab_size=50,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=16,
        num_labels=3,
        hidden_dropout_prob=0.0,  # no dropout: the two runs see the same computation
        attention_probs_dropout_prob=0.0,
    )
    model = transformers.BertForSequenceClassification(config)
    data = Sequences(512, seed=args.seed)
    run = dict(data=data, steps=steps, seed=args.seed, device=args.device)
    with tempfile.TemporaryDirectory() as tmp:
        ref, ref_loss = train(transformers.Trainer, copy.deepcopy(model), out_dir=tmp, **run)
        ours, our_loss = train(NpgradTrainer, model, out_dir=tmp, **run)
    print(f"transformers {transformers.__version__}: {steps} steps of a tiny BertConfig model")
    print(f"mean training loss: npgrad {our_loss:.5f}, model's own loss {ref_loss:.5f}")
    a = torch.cat([p.detach().cpu().flatten() for p in ours.parameters()])
    b = torch.cat([p.detach().cpu().flatten() for p in ref.parameters()])
    print(f"largest parameter difference: {(a - b).abs().max():.2e}")
    if not torch.allclose(a, b, rtol=1e-4, atol=1e-5):
        print("FAIL: training with npgrad's cross_entropy ends elsewhere than the stock Trainer")
        return 1
    print("OK: Trainer.compute_loss with npgrad's cross_entropy matches the stock Trainer")
    return 0


if __name__ == "__main__":
    sys.exit(main())
