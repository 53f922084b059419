"""Copy a trained checkpoint into the package (zoo/pretrained/NAME) as the zoo ships it: the
weights and config.json only, without the optimizer state that --resume needs.

    python tools/bundle_checkpoint.py runs/embedded lstm-2x128.sample
"""

import argparse
import json
import shutil
from pathlib import Path

from zoo.checkpoint import checkpoint_dir, load_checkpoint, read_config

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("source", help="a checkpoint or run directory (a run's best epoch is copied)")
parser.add_argument("name", help="the folder under zoo/pretrained/, as the registry entry's `bundled` names it")
args = parser.parse_args()
source, name = checkpoint_dir(args.source), args.name
target = Path(__file__).resolve().parents[1] / "zoo" / "pretrained" / name
target.mkdir(parents=True, exist_ok=True)
config = {k: v for k, v in read_config(source).items() if k != "training"}
shutil.copyfile(source / "model.safetensors", target / "model.safetensors")
(target / "config.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
load_checkpoint(target)  # the copy loads and its weights match the recorded sha256
print(f"{source} -> {target} (epoch {config['metrics'].get('epoch')}, "
      f"validation {config['metrics']['valid_nats']:.4f} nats/char)")
