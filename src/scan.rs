//! Static-weight profiles of a checkpoint (SPEC §11): which tensors are layer matrices, how they
//! are shaped, classified and ordered by depth, and the per-layer spectral report.
//!
//! # Which tensors are layer matrices ([`plan`])
//! Leading dimensions of size 1 are dropped first (a ViT `pos_embed` (1, 197, 768) is a 197 × 768
//! matrix). Then:
//! * non-floating dtypes (`I64` position ids, ...), `F8` types, 0-D and 1-D tensors (biases,
//!   norms, scales) and matrices with fewer than 2 rows or columns are skipped, each with a reason;
//! * 2-D tensors (out, in) are used as stored, out × in;
//! * tensors of 3 or more dimensions are convolution kernels, (out, in, k) or (out, in, kh, kw),
//!   reshaped to out × (in·k) or out × (in·kh·kw) (SPEC §2);
//! * fused attention projections stored as [Q; K; V] blocks — tensors named `c_attn` (GPT-2),
//!   `in_proj_weight` (PyTorch `MultiheadAttention`), `qkv`, `qkv_proj`, `wqkv`, `to_qkv` or
//!   `w_pack` — are split into three equal layers along the dimension that is exactly 3 times the
//!   other, named `<tensor>[q]`, `[k]`, `[v]`. A fused tensor whose shape does not say so (grouped
//!   query attention), and `query_key_value` (GPT-NeoX/BLOOM interleave heads), stays one layer of
//!   kind `attn_qkv`.
//!
//! # Kinds
//! From the dot-separated name (lower case): `embedding` when a segment contains `embed` or is
//! `wte`/`wpe`/`shared`; `conv` for reshaped kernels; inside a segment containing `attn` or
//! `attention`: `attn_q`/`attn_k`/`attn_v` for q/query/q_proj/wq/q_lin/to_q (and likewise for k,
//! v), `attn_qkv` for fused projections, `attn_o` for any other attention matrix (o_proj,
//! out_proj, c_proj, attention.output.dense); `mlp` under a segment containing mlp, ffn,
//! feed_forward, intermediate, DenseReluDense or output, or named fc1/fc2/c_fc/gate_proj/up_proj/
//! down_proj/w1/w2/w3/wi/wo; `other` otherwise (pooler, classifier, lm_head).
//!
//! # Depth order
//! The block index is the first integer segment of the name (`encoder.layer.3.…` → 3). Layers are
//! ordered by: embeddings and convolutions without a block index (stems) first; then indexed
//! layers by their stack (the
//! name before the first integer; encoder/down stacks before middle ones before decoder/up
//! stacks), by all integer segments, and within a block q, k, v, o, mlp-in, mlp-out; then the
//! remaining layers (heads). Ties are broken by name, so the order never depends on file order.
//!
//! # The scan ([`scan`])
//! Layers run in parallel on the current rayon pool, one layer per worker at a time: each worker
//! decodes its tensor block (in place when it can), computes the singular values in `f64` and
//! every metric, and releases the tensor's pages. Peak memory is about one tensor block per
//! worker (plus a 2 MiB row panel and the k × k Gram matrix, or an `f64` copy of the block when
//! it takes the SVD route), never the checkpoint. A layer that fails (NaN payload, zero matrix,
//! no convergence) gives a report with its `error` set while the rest of the scan goes on; only
//! cancellation stops the scan.

use crate::chart::{fit, Chart, Fit, Window};
use crate::checkpoint::{decode_block, non_finite, Block, Checkpoint, TensorView};
use crate::error::{Error, Result};
use crate::esd::{esd_metrics, EsdMetrics};
use crate::parallel::{try_map, Cancel};
use crate::spectrum::{numerical_rank, singular_values_f64, top_radial, Method};
use faer::MatRef;
use std::ops::Range;

/// The role of a layer matrix in its model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LayerKind {
    /// Token, position or patch embedding.
    Embedding,
    /// Attention query projection.
    AttnQ,
    /// Attention key projection.
    AttnK,
    /// Attention value projection.
    AttnV,
    /// Fused query/key/value projection that is not split.
    AttnQkv,
    /// Attention output projection.
    AttnO,
    /// Feed-forward (MLP) matrix.
    Mlp,
    /// Convolution kernel reshaped to out × (in·kernel).
    Conv,
    /// Anything else (pooler, classifier, language-model head).
    Other,
}

impl LayerKind {
    /// The name used in reports: `embedding`, `attn_q`, `attn_k`, `attn_v`, `attn_qkv`,
    /// `attn_o`, `mlp`, `conv`, `other`.
    pub fn name(self) -> &'static str {
        match self {
            LayerKind::Embedding => "embedding",
            LayerKind::AttnQ => "attn_q",
            LayerKind::AttnK => "attn_k",
            LayerKind::AttnV => "attn_v",
            LayerKind::AttnQkv => "attn_qkv",
            LayerKind::AttnO => "attn_o",
            LayerKind::Mlp => "mlp",
            LayerKind::Conv => "conv",
            LayerKind::Other => "other",
        }
    }

    /// The kind named `name` (the inverse of [`LayerKind::name`]).
    pub fn parse(name: &str) -> Option<Self> {
        [
            LayerKind::Embedding,
            LayerKind::AttnQ,
            LayerKind::AttnK,
            LayerKind::AttnV,
            LayerKind::AttnQkv,
            LayerKind::AttnO,
            LayerKind::Mlp,
            LayerKind::Conv,
            LayerKind::Other,
        ]
        .into_iter()
        .find(|k| k.name() == name)
    }
}

/// What the planner needs to know about a tensor.
#[derive(Debug, Clone, Copy)]
pub struct TensorMeta<'a> {
    /// Tensor name.
    pub name: &'a str,
    /// safetensors dtype name (`"F32"`, `"BF16"`, `"I64"`, ...).
    pub dtype: &'a str,
    /// Shape.
    pub shape: &'a [usize],
}

/// One layer matrix to scan: a block of a tensor seen as a row-major matrix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerPlan {
    /// Layer name: the tensor name, with `[q]`/`[k]`/`[v]` for the parts of a split fused tensor.
    pub name: String,
    /// Index of the tensor in the planner's input.
    pub tensor: usize,
    /// Role of the layer.
    pub kind: LayerKind,
    /// Block index (the first integer segment of the name), if any.
    pub block: Option<usize>,
    /// The tensor's shape as stored.
    pub tensor_shape: Vec<usize>,
    /// Columns of the tensor's matrix view (the reshape: rows = elements / columns).
    pub tensor_cols: usize,
    /// Rows of the tensor's matrix view taken by this layer.
    pub rows: Range<usize>,
    /// Columns of the tensor's matrix view taken by this layer.
    pub cols: Range<usize>,
}

impl LayerPlan {
    /// (m, n) of the layer matrix.
    pub fn shape(&self) -> (usize, usize) {
        (self.rows.len(), self.cols.len())
    }
}

/// A tensor that is not a layer matrix, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// Tensor name.
    pub name: String,
    /// Why it is not scanned.
    pub reason: String,
}

const FUSED_SPLIT: [&str; 8] = [
    "c_attn",
    "in_proj_weight",
    "in_proj",
    "qkv",
    "qkv_proj",
    "wqkv",
    "to_qkv",
    "w_pack",
];
const Q_NAMES: [&str; 7] = ["q", "query", "q_proj", "wq", "q_lin", "to_q", "query_proj"];
const K_NAMES: [&str; 7] = ["k", "key", "k_proj", "wk", "k_lin", "to_k", "key_proj"];
const V_NAMES: [&str; 7] = ["v", "value", "v_proj", "wv", "v_lin", "to_v", "value_proj"];
const MLP_CONTEXT: [&str; 7] = [
    "mlp",
    "ffn",
    "feed_forward",
    "feedforward",
    "intermediate",
    "densereludense",
    "output",
];
const MLP_IN: [&str; 11] = [
    "fc1",
    "c_fc",
    "gate_proj",
    "up_proj",
    "w1",
    "w3",
    "wi",
    "wi_0",
    "wi_1",
    "lin1",
    "dense_h_to_4h",
];
const MLP_OUT: [&str; 6] = ["fc2", "down_proj", "w2", "wo", "lin2", "dense_4h_to_h"];

/// Lower-case name segments without the trailing `weight`/`kernel`.
fn segments(name: &str) -> Vec<String> {
    let mut s: Vec<String> = name.split('.').map(|x| x.to_ascii_lowercase()).collect();
    while s.len() > 1 && matches!(s.last().map(String::as_str), Some("weight" | "kernel")) {
        s.pop();
    }
    s
}

/// The kind of a layer from its name, and whether it is a kernel reshaped from ≥ 3 dimensions.
pub fn classify(name: &str, reshaped: bool) -> LayerKind {
    let seg = segments(name);
    let last = seg.last().map(String::as_str).unwrap_or_default();
    let context = &seg[..seg.len().saturating_sub(1)];
    let any = |f: &dyn Fn(&str) -> bool| seg.iter().any(|s| f(s));
    if any(&|s| s.contains("embed") || matches!(s, "wte" | "wpe" | "shared")) {
        return LayerKind::Embedding;
    }
    if reshaped {
        return LayerKind::Conv;
    }
    if FUSED_SPLIT.contains(&last) || last == "query_key_value" {
        return LayerKind::AttnQkv;
    }
    if Q_NAMES.contains(&last) {
        return LayerKind::AttnQ;
    }
    if K_NAMES.contains(&last) {
        return LayerKind::AttnK;
    }
    if V_NAMES.contains(&last) {
        return LayerKind::AttnV;
    }
    let in_attention = context
        .iter()
        .any(|s| s.contains("attn") || s.contains("attention"));
    if in_attention && !last.contains("bias") {
        return LayerKind::AttnO;
    }
    if matches!(last, "o_proj" | "out_proj") {
        return LayerKind::AttnO;
    }
    if MLP_IN.contains(&last)
        || MLP_OUT.contains(&last)
        || context
            .iter()
            .any(|s| MLP_CONTEXT.iter().any(|c| s.contains(c)))
    {
        return LayerKind::Mlp;
    }
    LayerKind::Other
}

/// The first integer segment of a name (the block index).
pub fn block_index(name: &str) -> Option<usize> {
    name.split('.').find_map(|s| s.parse::<usize>().ok())
}

/// Sort key of a layer by depth (see the module documentation).
/// The order of layers by model depth: the permutation that sorts `layers` (name, kind) by
/// [`depth_key`], the rule every scan uses (stems, then indexed blocks in encoder / middle /
/// decoder order, then heads; within a block by role, as are the three parts of a split tensor;
/// ties by name).
pub fn depth_order(layers: &[(&str, LayerKind)]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..layers.len()).collect();
    order.sort_by_cached_key(|&i| depth_key(layers[i].0, layers[i].1));
    order
}

fn depth_key(name: &str, kind: LayerKind) -> (u8, u8, String, Vec<usize>, u8, String) {
    let tensor = ["[q]", "[k]", "[v]"]
        .iter()
        .find_map(|part| name.strip_suffix(part))
        .unwrap_or(name);
    let parts: Vec<&str> = tensor.split('.').collect();
    let ints: Vec<usize> = parts.iter().filter_map(|s| s.parse().ok()).collect();
    // The segments of the tensor name before the block index (all of them outside every block;
    // without the `[q]`/`[k]`/`[v]` of a split tensor, so that its parts sort in role order).
    let prefix = parts
        .iter()
        .take_while(|s| s.parse::<usize>().is_err())
        .copied()
        .collect::<Vec<_>>()
        .join(".")
        .to_ascii_lowercase();
    let stage = match (ints.is_empty(), kind) {
        (true, LayerKind::Embedding | LayerKind::Conv) => 0,
        (false, _) => 1,
        (true, _) => 2,
    };
    let stack = if ints.is_empty() {
        1
    } else if prefix.contains("enc") || prefix.contains("down") {
        0
    } else if prefix.contains("dec") || prefix.contains("up") {
        2
    } else {
        1
    };
    let seg = segments(name);
    let last = seg.last().map(String::as_str).unwrap_or_default();
    let within = match kind {
        LayerKind::Embedding => 0,
        LayerKind::AttnQ | LayerKind::AttnQkv => 1,
        LayerKind::AttnK => 2,
        LayerKind::AttnV => 3,
        LayerKind::AttnO => 4,
        LayerKind::Mlp => {
            let out = MLP_OUT.contains(&last)
                || (last == "c_proj")
                || (seg.iter().any(|s| s == "output") && !MLP_IN.contains(&last));
            if out {
                6
            } else {
                5
            }
        }
        LayerKind::Conv => 7,
        LayerKind::Other => 8,
    };
    (stage, stack, prefix, ints, within, name.to_string())
}

/// Plans the layers of a list of tensors: selects the layer matrices among those whose name
/// `keep` accepts, reshapes and splits them, and orders them by depth. Tensors that `keep`
/// rejects are neither planned nor listed as skipped.
pub fn plan(
    tensors: &[TensorMeta<'_>],
    keep: &dyn Fn(&str) -> bool,
) -> (Vec<LayerPlan>, Vec<Skipped>) {
    let mut plans = Vec::new();
    let mut skipped = Vec::new();
    for (t, meta) in tensors.iter().enumerate() {
        if !keep(meta.name) {
            continue;
        }
        let skip = |reason: String| Skipped {
            name: meta.name.to_owned(),
            reason,
        };
        if crate::checkpoint::FloatType::parse(meta.dtype).is_none() {
            skipped.push(skip(format!(
                "dtype {} is not a scanned floating type",
                meta.dtype
            )));
            continue;
        }
        let dims: Vec<usize> = meta.shape.iter().copied().skip_while(|&d| d == 1).collect();
        if dims.len() < 2 {
            skipped.push(skip(format!(
                "shape {:?} is not a matrix (bias, norm or vector)",
                meta.shape
            )));
            continue;
        }
        let rows = dims[0];
        let cols: usize = dims[1..].iter().product();
        if rows < 2 || cols < 2 {
            skipped.push(skip(format!(
                "shape {:?} has fewer than 2 rows or columns",
                meta.shape
            )));
            continue;
        }
        let reshaped = dims.len() > 2;
        let kind = classify(meta.name, reshaped);
        let base = LayerPlan {
            name: meta.name.to_owned(),
            tensor: t,
            kind,
            block: block_index(meta.name),
            tensor_shape: meta.shape.to_vec(),
            tensor_cols: cols,
            rows: 0..rows,
            cols: 0..cols,
        };
        let last = segments(meta.name).pop().unwrap_or_default();
        let splittable = kind == LayerKind::AttnQkv && FUSED_SPLIT.contains(&last.as_str());
        if splittable && (rows == 3 * cols || cols == 3 * rows) {
            let parts = [
                ("q", LayerKind::AttnQ),
                ("k", LayerKind::AttnK),
                ("v", LayerKind::AttnV),
            ];
            for (i, (tag, part_kind)) in parts.into_iter().enumerate() {
                let mut p = base.clone();
                p.name = format!("{}[{tag}]", meta.name);
                p.kind = part_kind;
                if rows == 3 * cols {
                    p.rows = i * cols..(i + 1) * cols;
                } else {
                    p.cols = i * rows..(i + 1) * rows;
                }
                plans.push(p);
            }
        } else {
            plans.push(base);
        }
    }
    plans.sort_by_cached_key(|p| depth_key(&p.name, p.kind));
    (plans, skipped)
}

/// Where the tensors of a scan come from.
pub trait TensorSource: Sync {
    /// The tensor with index `t` (as given to [`plan`]); `None` if its dtype cannot be scanned.
    fn view(&self, t: usize) -> Option<TensorView<'_>>;
    /// Called when a layer is done with tensor `t` (a checkpoint releases its pages).
    fn release(&self, _t: usize) {}
}

impl TensorSource for Checkpoint {
    fn view(&self, t: usize) -> Option<TensorView<'_>> {
        self.view(self.tensors().get(t)?)
    }
    fn release(&self, t: usize) {
        if let Some(e) = self.tensors().get(t) {
            Checkpoint::release(self, e);
        }
    }
}

impl TensorSource for [TensorView<'_>] {
    fn view(&self, t: usize) -> Option<TensorView<'_>> {
        self.get(t).copied()
    }
}

/// The metadata of every tensor of a source, for [`plan`].
pub fn checkpoint_meta(ck: &Checkpoint) -> Vec<TensorMeta<'_>> {
    ck.tensors()
        .iter()
        .map(|e| TensorMeta {
            name: &e.name,
            dtype: &e.dtype,
            shape: &e.shape,
        })
        .collect()
}

/// The energy quantiles τ of the effective-rank columns.
pub const ERANK_TAUS: [f64; 3] = [0.5, 0.9, 0.99];

/// Everything measured on one layer.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerMetrics {
    /// Descending singular values (f64).
    pub sv: Vec<f64>,
    /// Numerical rank k′.
    pub numerical_rank: usize,
    /// Top-radial coordinate r.
    pub top_radial: f64,
    /// Effective ranks at [`ERANK_TAUS`].
    pub erank: [usize; 3],
    /// Rank window [erank_0.5, erank_0.99].
    pub rank_window: (usize, usize),
    /// Stable rank ‖W‖_F²/‖W‖₂².
    pub stable_rank: f64,
    /// WeightWatcher-compatible ESD metrics.
    pub esd: EsdMetrics,
    /// One power-law chart fit per requested chart (default window), or why it failed.
    pub charts: Vec<std::result::Result<Fit, String>>,
}

/// The report of one layer: its plan, and its metrics or the reason it failed.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerReport {
    /// What was scanned.
    pub plan: LayerPlan,
    /// The metrics, or the error message of a failed layer.
    pub result: std::result::Result<LayerMetrics, String>,
}

/// Metrics of one layer matrix from its singular values (m × n matrix), with a fit of each of
/// `charts` on its default window.
pub fn layer_metrics(sv: Vec<f64>, m: usize, n: usize, charts: &[Chart]) -> Result<LayerMetrics> {
    let erank = crate::rank::effective_ranks(&sv, &ERANK_TAUS)?;
    Ok(LayerMetrics {
        charts: charts
            .iter()
            .map(|&c| fit(&sv, c, Window::Default).map_err(|e| format!("chart {}: {e}", c.name())))
            .collect(),
        numerical_rank: numerical_rank(&sv, m, n),
        top_radial: top_radial(&sv)?,
        erank: [erank[0], erank[1], erank[2]],
        // [erank_0.5, erank_0.99]: the first and last of the quantiles just computed.
        rank_window: (erank[0], erank[2]),
        stable_rank: crate::rank::stable_rank(&sv)?,
        esd: esd_metrics(&sv, m, n)?,
        sv,
    })
}

/// Singular values (f64, descending) of a decoded block.
fn block_singular_values(block: &Block<'_>, name: &str, index: usize) -> Result<Vec<f64>> {
    match block {
        Block::F32 {
            data,
            row_stride,
            rows,
            cols,
        } => {
            let len = (rows - 1) * row_stride + cols;
            let a =
                MatRef::from_row_major_slice_with_stride(&data[..len], *rows, *cols, *row_stride);
            singular_values_f64(a, Method::Auto, name, index)
        }
        Block::F64 {
            data,
            row_stride,
            rows,
            cols,
        } => {
            let len = (rows - 1) * row_stride + cols;
            let a =
                MatRef::from_row_major_slice_with_stride(&data[..len], *rows, *cols, *row_stride);
            singular_values_f64(a, Method::Auto, name, index)
        }
    }
}

/// Scans one layer; a layer error is returned as `Err(message)`.
fn scan_layer<S: TensorSource + ?Sized>(
    source: &S,
    p: &LayerPlan,
    index: usize,
    charts: &[Chart],
) -> std::result::Result<LayerMetrics, String> {
    let view = source
        .view(p.tensor)
        .ok_or_else(|| format!("{}: tensor cannot be read as floating point", p.name))?;
    let sv = decode_block(&view, p.tensor_cols, p.rows.clone(), p.cols.clone())
        .and_then(|block| block_singular_values(&block, &p.name, index))
        .map_err(|e| match e {
            Error::NonFinite { row, col, .. } => {
                non_finite(&view, p.rows.start + row, p.cols.start + col)
            }
            e => e,
        })
        .map_err(|e| e.to_string());
    source.release(p.tensor);
    let sv = sv?;
    if sv.first().map_or(true, |&s| s == 0.0) {
        return Err(format!(
            "{}: the matrix is zero (no spectrum to profile)",
            p.name
        ));
    }
    let (m, n) = p.shape();
    layer_metrics(sv, m, n, charts).map_err(|e| format!("{}: {e}", p.name))
}

/// Scans every planned layer of `source` in parallel on the current rayon pool (largest layers
/// first), fitting each of `charts`; the reports are returned in plan order.
///
/// `on_done(i)` is called (from a worker thread) when layer i is finished, failed or not. Layer
/// failures are reported in [`LayerReport::result`]; the only error is
/// [`crate::Error::Cancelled`] when `cancel` is set.
pub fn scan<S: TensorSource + ?Sized>(
    source: &S,
    plans: &[LayerPlan],
    charts: &[Chart],
    cancel: &Cancel,
    on_done: &(dyn Fn(usize) + Sync),
) -> Result<Vec<LayerReport>> {
    // Largest layers first (cost m·n·k of the decomposition), so that the last tasks are small
    // and no worker is left alone with a big layer at the end; results return in plan order.
    let mut order: Vec<usize> = (0..plans.len()).collect();
    order.sort_by_key(|&i| {
        let (m, n) = plans[i].shape();
        std::cmp::Reverse(m as u128 * n as u128 * m.min(n) as u128)
    });
    let done = try_map(&order, cancel, |_, &i| {
        let result = scan_layer(source, &plans[i], i, charts);
        on_done(i);
        Ok(LayerReport {
            plan: plans[i].clone(),
            result,
        })
    })?;
    let mut out: Vec<Option<LayerReport>> = vec![None; plans.len()];
    for (report, &i) in done.into_iter().zip(&order) {
        out[i] = Some(report);
    }
    Ok(out.into_iter().flatten().collect())
}

/// Opens `path` ([`Checkpoint::open`]), plans its layers with `keep`, and scans them with
/// `charts`.
pub fn scan_checkpoint(
    path: &std::path::Path,
    keep: &dyn Fn(&str) -> bool,
    charts: &[Chart],
    cancel: &Cancel,
) -> Result<(Vec<LayerReport>, Vec<Skipped>)> {
    let ck = Checkpoint::open(path)?;
    let (plans, skipped) = plan(&checkpoint_meta(&ck), keep);
    let reports = scan(&ck, &plans, charts, cancel, &|_| {})?;
    Ok((reports, skipped))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkpoint::FloatType;
    use crate::error::Error;

    fn meta<'a>(name: &'a str, dtype: &'a str, shape: &'a [usize]) -> TensorMeta<'a> {
        TensorMeta { name, dtype, shape }
    }

    #[test]
    fn classifies_common_layer_names() {
        let cases = [
            ("embeddings.word_embeddings.weight", LayerKind::Embedding),
            (
                "encoder.layer.0.attention.self.query.weight",
                LayerKind::AttnQ,
            ),
            (
                "encoder.layer.0.attention.self.key.weight",
                LayerKind::AttnK,
            ),
            (
                "encoder.layer.0.attention.self.value.weight",
                LayerKind::AttnV,
            ),
            (
                "encoder.layer.0.attention.output.dense.weight",
                LayerKind::AttnO,
            ),
            ("encoder.layer.0.intermediate.dense.weight", LayerKind::Mlp),
            ("encoder.layer.0.output.dense.weight", LayerKind::Mlp),
            ("model.layers.3.self_attn.o_proj.weight", LayerKind::AttnO),
            ("model.layers.3.mlp.down_proj.weight", LayerKind::Mlp),
            ("transformer.h.2.attn.c_proj.weight", LayerKind::AttnO),
            ("transformer.h.2.mlp.c_fc.weight", LayerKind::Mlp),
            ("transformer.wte.weight", LayerKind::Embedding),
            (
                "gpt_neox.layers.1.attention.query_key_value.weight",
                LayerKind::AttnQkv,
            ),
            ("pooler.dense.weight", LayerKind::Other),
            ("lm_head.weight", LayerKind::Other),
        ];
        for (name, kind) in cases {
            assert_eq!(classify(name, false), kind, "{name}");
        }
        assert_eq!(classify("features.3.conv.weight", true), LayerKind::Conv);
    }

    #[test]
    fn plans_reshape_split_skip_and_order_by_depth() {
        let tensors = [
            meta("h.10.attn.c_attn.weight", "F32", &[4, 12]),
            meta("h.2.attn.c_attn.weight", "F32", &[4, 12]),
            meta("h.2.ln_1.weight", "F32", &[4]),
            meta("h.2.mlp.c_proj.weight", "F32", &[16, 4]),
            meta("h.2.mlp.c_fc.weight", "F32", &[4, 16]),
            meta("lm_head.weight", "BF16", &[10, 4]),
            meta("wte.weight", "F16", &[10, 4]),
            meta("conv.5.weight", "F32", &[8, 3, 3, 3]),
            meta("pos_ids", "I64", &[1, 12]),
            meta("cls_token", "F32", &[1, 1, 4]),
            meta("h.2.attn.bias", "F32", &[12, 1]),
            meta("out_proj.weight", "F32", &[4, 4]),
            meta("in_proj_weight", "F32", &[12, 4]),
        ];
        let (plans, skipped) = plan(&tensors, &|_| true);
        let names: Vec<&str> = plans.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "wte.weight",
                "conv.5.weight",
                "h.2.attn.c_attn.weight[q]",
                "h.2.attn.c_attn.weight[k]",
                "h.2.attn.c_attn.weight[v]",
                "h.2.mlp.c_fc.weight",
                "h.2.mlp.c_proj.weight",
                "h.10.attn.c_attn.weight[q]",
                "h.10.attn.c_attn.weight[k]",
                "h.10.attn.c_attn.weight[v]",
                // outside every block, by name; the parts of a split tensor in role order
                "in_proj_weight[q]",
                "in_proj_weight[k]",
                "in_proj_weight[v]",
                "lm_head.weight",
                "out_proj.weight",
            ]
        );
        let conv = &plans[1];
        assert_eq!((conv.kind, conv.shape()), (LayerKind::Conv, (8, 27)));
        let k = &plans[3];
        assert_eq!(
            (k.kind, k.cols.clone(), k.block),
            (LayerKind::AttnK, 4..8, Some(2))
        );
        let skipped: Vec<&str> = skipped.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            skipped,
            ["h.2.ln_1.weight", "pos_ids", "cls_token", "h.2.attn.bias"]
        );
        let (only, _) = plan(&tensors, &|n| n.contains("mlp"));
        assert_eq!(only.len(), 2);
    }

    #[test]
    fn scans_a_checkpoint_file() {
        let dir = std::env::temp_dir().join(format!("gsalign-scan-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("m.safetensors");
        let w: Vec<f32> = (0..48).map(|i| ((i * 7919) % 23) as f32 - 11.0).collect();
        crate::checkpoint::tests::write_file(
            &path,
            &[
                ("blocks.1.fc2.weight", "F32", vec![8, 6], bytes_f32(&w)),
                ("blocks.0.fc1.weight", "F32", vec![6, 8], bytes_f32(&w)),
                ("blocks.0.fc1.bias", "F32", vec![6], bytes_f32(&w[..6])),
            ],
        );
        let (reports, skipped) =
            scan_checkpoint(&path, &|_| true, &[Chart::Ls], &Cancel::new()).unwrap();
        let names: Vec<&str> = reports.iter().map(|r| r.plan.name.as_str()).collect();
        assert_eq!(names, ["blocks.0.fc1.weight", "blocks.1.fc2.weight"]);
        assert_eq!(skipped.len(), 1);
        // the same values read as 8 x 6 and as 6 x 8 have the same Frobenius norm
        let a = reports[0].result.as_ref().unwrap();
        let b = reports[1].result.as_ref().unwrap();
        assert_eq!(a.sv.len(), 6);
        assert!(a.sv.iter().all(|s| s.is_finite() && *s >= 0.0));
        assert!((a.esd.log_norm - b.esd.log_norm).abs() < 1e-12);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn non_finite_values_are_reported_at_their_place_in_the_tensor() {
        let dir = std::env::temp_dir().join(format!("gsalign-scan-nan-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("m.safetensors");
        let mut qkv = vec![0.5f32; 12];
        qkv[9] = f32::NAN; // row 4, column 1: the third (value) block of the fused 6 x 2
        let mut wide = vec![0.25f32; 6];
        wide[4] = f32::NEG_INFINITY; // row 1, column 1 of a 2 x 3
        let half: Vec<u8> = [0x3f80u16, 0x7f80, 0x3f80, 0x3f80]
            .iter()
            .flat_map(|x| x.to_le_bytes())
            .collect();
        crate::checkpoint::tests::write_file(
            &path,
            &[
                (
                    "blocks.0.attn.qkv.weight",
                    "F32",
                    vec![6, 2],
                    bytes_f32(&qkv),
                ),
                ("blocks.1.fc1.weight", "F32", vec![2, 3], bytes_f32(&wide)),
                ("blocks.2.fc1.weight", "BF16", vec![2, 2], half),
            ],
        );
        let (reports, _) = scan_checkpoint(&path, &|_| true, &[Chart::Ls], &Cancel::new()).unwrap();
        let errors: Vec<(&str, Option<&String>)> = reports
            .iter()
            .map(|r| (r.plan.name.as_str(), r.result.as_ref().err()))
            .collect();
        assert_eq!(errors.len(), 5, "{errors:?}");
        for (name, error) in errors {
            let expected = match name {
                "blocks.0.attn.qkv.weight[v]" => {
                    "tensor \"blocks.0.attn.qkv.weight\": non-finite value (NaN or Inf) at row 4, column 1"
                }
                "blocks.1.fc1.weight" => {
                    "tensor \"blocks.1.fc1.weight\": non-finite value (NaN or Inf) at row 1, column 1"
                }
                "blocks.2.fc1.weight" => {
                    "tensor \"blocks.2.fc1.weight\": non-finite value (NaN or Inf) at row 0, column 1"
                }
                _ => {
                    assert!(error.is_none(), "{name}: {error:?}");
                    continue;
                }
            };
            let error = error.expect("an error row");
            assert!(error.contains(expected), "{name}: {error}");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    fn bytes_f32(v: &[f32]) -> Vec<u8> {
        v.iter().flat_map(|x| x.to_le_bytes()).collect()
    }

    #[test]
    fn scans_in_memory_tensors_with_error_rows() {
        let d = 24;
        let w: Vec<f32> = (0..d * d)
            .map(|i| {
                if i % (d + 1) == 0 {
                    1.0 + (i / (d + 1)) as f32
                } else {
                    0.0
                }
            })
            .collect();
        let mut bad = w.clone();
        bad[5] = f32::INFINITY;
        let zero = vec![0.0f32; d * d];
        let (wb, bb, zb) = (bytes_f32(&w), bytes_f32(&bad), bytes_f32(&zero));
        let shape = [d, d];
        let views = [
            TensorView {
                name: "l.0.fc1.weight",
                file: "<memory>",
                dtype: FloatType::F32,
                shape: &shape,
                bytes: &wb,
            },
            TensorView {
                name: "l.1.fc1.weight",
                file: "<memory>",
                dtype: FloatType::F32,
                shape: &shape,
                bytes: &bb,
            },
            TensorView {
                name: "l.2.fc1.weight",
                file: "<memory>",
                dtype: FloatType::F32,
                shape: &shape,
                bytes: &zb,
            },
        ];
        let metas: Vec<TensorMeta<'_>> = views
            .iter()
            .map(|v| meta(v.name, v.dtype.name(), v.shape))
            .collect();
        let (plans, _) = plan(&metas, &|_| true);
        let done = std::sync::atomic::AtomicUsize::new(0);
        let charts = [Chart::Ls, Chart::Top];
        let reports = scan(&views[..], &plans, &charts, &Cancel::new(), &|_| {
            done.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        })
        .unwrap();
        assert_eq!(done.into_inner(), 3);
        let m = reports[0].result.as_ref().unwrap();
        assert_eq!(m.sv[0], d as f64);
        assert_eq!(m.sv[d - 1], 1.0);
        assert!(m.esd.alpha.is_finite());
        let ls = m.charts[0].as_ref().unwrap();
        assert_eq!(ls.chart, Chart::Ls);
        assert!(ls.alpha > 0.0 && m.charts[1].as_ref().unwrap().alpha > 0.0);
        assert!(reports[1]
            .result
            .as_ref()
            .unwrap_err()
            .contains("non-finite"));
        assert!(reports[2].result.as_ref().unwrap_err().contains("zero"));
        let cancel = Cancel::new();
        cancel.cancel();
        assert_eq!(
            scan(&views[..], &plans, &charts, &cancel, &|_| {}),
            Err(Error::Cancelled)
        );
    }
}
