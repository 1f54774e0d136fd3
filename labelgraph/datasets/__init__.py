"""Dataset readers (COCO, VOC, Charades, NUS-WIDE, CSV, JSONL, label matrices, ML-GCN pickles).

Examples
--------
>>> from labelgraph.datasets import DATASETS
>>> "coco" in DATASETS and "voc" in DATASETS
True
"""
from __future__ import annotations

from .plan import ShardPlan, plan_statistics
from .registry import (DATASETS, DatasetReader, canonical_name, check_options, default_splits, get_reader,
                       read_dataset, reader_table)

__all__ = ["DATASETS", "DatasetReader", "ShardPlan", "canonical_name", "check_options", "default_splits",
           "get_reader", "plan_statistics", "read_dataset", "reader_table"]
