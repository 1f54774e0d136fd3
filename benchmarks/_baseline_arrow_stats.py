"""The baseline of issue 13: pyarrow reads the label column, scipy builds one CSR of every sample, then Yᵀ Y.

No chunking, no engine: the whole label matrix in memory at once.  Writes ``n``, ``M``
(zero diagonal) and the label names uncompressed to OUT.npz.

    python benchmarks/_baseline_arrow_stats.py DATA.csv|'shards/*.parquet' OUT.npz
"""
import glob
import sys

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import scipy.sparse as sp

source, out = sys.argv[1], sys.argv[2]
files = sorted(glob.glob(source))
if files[0].endswith(".parquet"):
    lists = pq.read_table(files, columns=["labels"])["labels"]
else:
    table = pcsv.read_csv(files[0], convert_options=pcsv.ConvertOptions(column_types={"labels": pa.string()}))
    lists = pc.split_pattern(table["labels"], ";")
lists = lists.combine_chunks()
names = pc.list_flatten(lists).dictionary_encode()
lengths = pc.list_value_length(lists).fill_null(0).to_numpy()
indptr = np.zeros(len(lengths) + 1, dtype=np.int64)
np.cumsum(lengths, out=indptr[1:])
codes = names.indices.to_numpy().astype(np.int32)  # a writable copy: scipy sorts indices in place
C = len(names.dictionary)
Y = sp.csr_matrix((np.ones(len(codes), dtype=np.int32), codes, indptr), shape=(len(lengths), C))
Y.sum_duplicates()
Y.data[:] = 1
n = np.asarray(Y.sum(axis=0)).ravel().astype(np.int64)
M = (Y.T @ Y).tocsr().astype(np.int64)
M.setdiag(0)
M.eliminate_zeros()
np.savez(out, labels=np.array(names.dictionary.to_pylist()), n=n, indptr=M.indptr, indices=M.indices, data=M.data,
         num_samples=np.int64(len(lengths)))
print(len(lengths), C, int(n.sum()), M.nnz)
