//! Reading `.safetensors` checkpoints: memory-mapped, validated, one tensor at a time.
//!
//! A checkpoint is a single `.safetensors` file, a directory of them, or a sharded Hugging Face
//! checkpoint described by `*.safetensors.index.json` (`{"weight_map": {tensor: shard file}}`).
//! Pickle-based files (`.pt`, `.pth`, `.bin`, `.ckpt`, `.pkl`) are never opened: loading them runs
//! arbitrary code.
//!
//! # The format and what is checked
//! A safetensors file is an 8-byte little-endian header length n, n bytes of JSON
//! `{name: {"dtype", "shape", "data_offsets": [start, end]}, "__metadata__": {..}}`, then the data
//! section; offsets are relative to the data section and tensors are stored row-major
//! little-endian. Files are untrusted: before any tensor is read, [`Checkpoint::open`] checks
//! that the file is long enough for its header length, that the header is JSON with no duplicate
//! names, that each entry has a known dtype, a shape and offsets whose span equals
//! `prod(shape) × itemsize`, that offsets lie inside the data section and do not overlap, and
//! then runs the `safetensors` crate's own validation (contiguous offsets covering the data
//! section exactly). Every failure is an [`Error::Checkpoint`] naming the file and the tensor.
//! Values are checked by their consumer, in the pass it makes over them anyway (the scan's
//! spectrum, [`crate::spectrum`]): a NaN or ±Inf is an error naming the tensor, row and column
//! ([`non_finite`]).
//!
//! # Memory
//! Files are memory-mapped, so opening a checkpoint reads only its headers. A tensor's pages are
//! read when it is decoded, and [`Checkpoint::release`] hands them back to the kernel
//! (`madvise(MADV_DONTNEED)`), so scanning a checkpoint keeps only the tensors in flight
//! resident. `F32`/`F64` tensors whose data is aligned are used in place without a copy;
//! `F16`/`BF16` tensors are widened to `f32`, one block at a time. (A file truncated by another
//! process while it is mapped makes the reading process fail with `SIGBUS`: do not rewrite a
//! checkpoint while it is being scanned.)

use crate::error::{Error, Result};
use memmap2::{Mmap, UncheckedAdvice};
use serde::de::{Deserializer, MapAccess, Visitor};
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::path::{Component, Path, PathBuf};

/// Largest JSON header accepted (the `safetensors` crate's own limit, 100 MB).
const MAX_HEADER: u64 = 100_000_000;

/// File suffixes of pickle-based checkpoints, which are never opened.
const PICKLE_SUFFIXES: [&str; 5] = ["pt", "pth", "bin", "ckpt", "pkl"];

/// The floating-point storage types that can be scanned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FloatType {
    /// IEEE binary64.
    F64,
    /// IEEE binary32.
    F32,
    /// IEEE binary16 (widened to `f32`).
    F16,
    /// bfloat16, the top half of a binary32 (widened to `f32`).
    BF16,
}

impl FloatType {
    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            FloatType::F64 => 8,
            FloatType::F32 => 4,
            FloatType::F16 | FloatType::BF16 => 2,
        }
    }

    /// The safetensors name of the type (`"F64"`, `"F32"`, `"F16"`, `"BF16"`).
    pub fn name(self) -> &'static str {
        match self {
            FloatType::F64 => "F64",
            FloatType::F32 => "F32",
            FloatType::F16 => "F16",
            FloatType::BF16 => "BF16",
        }
    }

    /// Parses a safetensors dtype name; `None` for types that cannot be scanned.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "F64" => Some(FloatType::F64),
            "F32" => Some(FloatType::F32),
            "F16" => Some(FloatType::F16),
            "BF16" => Some(FloatType::BF16),
            _ => None,
        }
    }
}

/// One tensor of a checkpoint, as described by its (validated) header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorEntry {
    /// Tensor name.
    pub name: String,
    /// Index of its file in [`Checkpoint::files`].
    pub file: usize,
    /// The safetensors dtype name (`"F32"`, `"BF16"`, `"I64"`, ...).
    pub dtype: String,
    /// Shape (row-major).
    pub shape: Vec<usize>,
    /// Byte range in the file (absolute, header included).
    pub start: usize,
    /// End of the byte range (exclusive).
    pub end: usize,
}

/// A borrowed tensor: the input of [`decode_block`], from a checkpoint or from memory.
#[derive(Debug, Clone, Copy)]
pub struct TensorView<'a> {
    /// Tensor name (used in errors).
    pub name: &'a str,
    /// Where the tensor comes from (a file path, or a label for in-memory tensors; used in errors).
    pub file: &'a str,
    /// Storage type.
    pub dtype: FloatType,
    /// Shape.
    pub shape: &'a [usize],
    /// The raw little-endian bytes, `prod(shape) × dtype.size()` of them.
    pub bytes: &'a [u8],
}

/// An open, validated checkpoint: memory maps of its files and the list of its tensors.
pub struct Checkpoint {
    paths: Vec<PathBuf>,
    labels: Vec<String>,
    maps: Vec<Mmap>,
    tensors: Vec<TensorEntry>,
}

impl std::fmt::Debug for Checkpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Checkpoint")
            .field("files", &self.labels)
            .field("tensors", &self.tensors.len())
            .finish()
    }
}

fn err(file: &str, tensor: &str, reason: impl Into<String>) -> Error {
    Error::Checkpoint {
        file: file.into(),
        tensor: tensor.into(),
        reason: reason.into(),
    }
}

fn is_pickle(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| PICKLE_SUFFIXES.contains(&e.to_ascii_lowercase().as_str()))
}

fn pickle_error(path: &Path) -> Error {
    err(
        &path.display().to_string(),
        "",
        "pickle-based checkpoints (.pt, .pth, .bin, .ckpt, .pkl) are not opened, because loading \
         them runs arbitrary code; convert the checkpoint to .safetensors",
    )
}

impl Checkpoint {
    /// Opens a `.safetensors` file, a `*.safetensors.index.json` shard index, or a directory
    /// (its shard index if it has one, else every `*.safetensors` file in it, by name), and
    /// validates every header. Tensor names must be unique across the files.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let label = path.display().to_string();
        let meta = std::fs::metadata(path).map_err(|e| err(&label, "", e.to_string()))?;
        if meta.is_dir() {
            return Self::open_dir(path);
        }
        if is_pickle(path) {
            return Err(pickle_error(path));
        }
        if label.ends_with(".json") {
            return Self::open_index(path);
        }
        Self::open_files(vec![path.to_path_buf()], None)
    }

    fn open_dir(dir: &Path) -> Result<Self> {
        let label = dir.display().to_string();
        let mut files = Vec::new();
        let mut indexes = Vec::new();
        let mut pickles = Vec::new();
        let entries = std::fs::read_dir(dir).map_err(|e| err(&label, "", e.to_string()))?;
        for entry in entries {
            let p = entry.map_err(|e| err(&label, "", e.to_string()))?.path();
            if !p.is_file() {
                continue;
            }
            let name = p
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or_default()
                .to_owned();
            if name.ends_with(".safetensors.index.json") {
                indexes.push(p);
            } else if name.ends_with(".safetensors") {
                files.push(p);
            } else if is_pickle(&p) {
                pickles.push(p);
            }
        }
        indexes.sort();
        files.sort();
        match indexes.len() {
            0 => {}
            1 => return Self::open_index(&indexes[0]),
            _ => {
                let preferred = dir.join("model.safetensors.index.json");
                if indexes.contains(&preferred) {
                    return Self::open_index(&preferred);
                }
                return Err(err(
                    &label,
                    "",
                    format!(
                        "{} shard index files (*.safetensors.index.json); pass one of them",
                        indexes.len()
                    ),
                ));
            }
        }
        if files.is_empty() {
            if let Some(p) = pickles.first() {
                return Err(pickle_error(p));
            }
            return Err(err(&label, "", "no .safetensors file in this directory"));
        }
        Self::open_files(files, None)
    }

    fn open_index(index: &Path) -> Result<Self> {
        let label = index.display().to_string();
        let text = std::fs::read(index).map_err(|e| err(&label, "", e.to_string()))?;
        let value: serde_json::Value = serde_json::from_slice(&text)
            .map_err(|e| err(&label, "", format!("invalid JSON: {e}")))?;
        let map = value
            .get("weight_map")
            .and_then(|m| m.as_object())
            .ok_or_else(|| err(&label, "", "no \"weight_map\" object in the shard index"))?;
        let dir = index.parent().unwrap_or_else(|| Path::new("."));
        let mut files: Vec<String> = Vec::new();
        let mut expected: HashMap<String, PathBuf> = HashMap::new();
        for (tensor, file) in map {
            let file = file
                .as_str()
                .ok_or_else(|| err(&label, tensor, "the weight_map entry is not a file name"))?;
            let rel = Path::new(file);
            let safe = rel.components().all(|c| matches!(c, Component::Normal(_)));
            if !safe || file.is_empty() {
                return Err(err(
                    &label,
                    tensor,
                    format!("shard file {file:?} is not a plain relative path"),
                ));
            }
            if is_pickle(rel) {
                return Err(pickle_error(&dir.join(rel)));
            }
            if !files.iter().any(|f| f == file) {
                files.push(file.to_owned());
            }
            expected.insert(tensor.clone(), dir.join(rel));
        }
        files.sort();
        let paths: Vec<PathBuf> = files.iter().map(|f| dir.join(f)).collect();
        Self::open_files(paths, Some((&label, &expected)))
    }

    /// Maps and validates `paths`; with an index, checks every indexed tensor is in its shard.
    fn open_files(
        paths: Vec<PathBuf>,
        index: Option<(&str, &HashMap<String, PathBuf>)>,
    ) -> Result<Self> {
        let mut labels = Vec::with_capacity(paths.len());
        let mut maps = Vec::with_capacity(paths.len());
        let mut tensors = Vec::new();
        let mut seen: HashMap<String, usize> = HashMap::new();
        for (i, path) in paths.iter().enumerate() {
            let label = path.display().to_string();
            if is_pickle(path) {
                return Err(pickle_error(path));
            }
            let file = File::open(path).map_err(|e| err(&label, "", e.to_string()))?;
            let len = file
                .metadata()
                .map_err(|e| err(&label, "", e.to_string()))?
                .len();
            if len < 8 {
                return Err(err(
                    &label,
                    "",
                    format!("truncated: {len} bytes, shorter than the 8-byte header length"),
                ));
            }
            // SAFETY: the map is read-only and private. Its contents are validated before use;
            // a file modified by another process while mapped is outside the contract (module doc).
            let map = unsafe { Mmap::map(&file) }.map_err(|e| err(&label, "", e.to_string()))?;
            let entries = parse_header(&map, &label)?;
            for mut e in entries {
                if let Some(&other) = seen.get(&e.name) {
                    return Err(err(
                        &label,
                        &e.name,
                        format!("duplicate tensor name (also in {})", paths[other].display()),
                    ));
                }
                seen.insert(e.name.clone(), i);
                e.file = i;
                tensors.push(e);
            }
            labels.push(label);
            maps.push(map);
        }
        if let Some((index_label, expected)) = index {
            let mut names: Vec<&String> = expected.keys().collect();
            names.sort();
            for name in names {
                let file = &expected[name];
                if seen.get(name).map(|&i| &paths[i]) != Some(file) {
                    return Err(err(
                        index_label,
                        name,
                        format!(
                            "the shard index puts this tensor in {}, which does not hold it",
                            file.display()
                        ),
                    ));
                }
            }
        }
        Ok(Checkpoint {
            paths,
            labels,
            maps,
            tensors,
        })
    }

    /// The tensors of every file, in header order, file by file.
    pub fn tensors(&self) -> &[TensorEntry] {
        &self.tensors
    }

    /// The files, in the order [`TensorEntry::file`] indexes them.
    pub fn files(&self) -> &[PathBuf] {
        &self.paths
    }

    /// The raw bytes of a tensor (pages are read from disk on first access).
    pub fn bytes(&self, entry: &TensorEntry) -> &[u8] {
        &self.maps[entry.file][entry.start..entry.end]
    }

    /// A borrowed view of a tensor, or `None` when its dtype cannot be scanned.
    pub fn view<'a>(&'a self, entry: &'a TensorEntry) -> Option<TensorView<'a>> {
        Some(TensorView {
            name: &entry.name,
            file: &self.labels[entry.file],
            dtype: FloatType::parse(&entry.dtype)?,
            shape: &entry.shape,
            bytes: self.bytes(entry),
        })
    }

    /// Gives the resident pages of a tensor back to the kernel (they are re-read from the file if
    /// the tensor is read again). Only whole 4 KiB pages inside the tensor are released, so
    /// neighbouring tensors are not touched.
    pub fn release(&self, entry: &TensorEntry) {
        const PAGE: usize = 4096;
        let start = entry.start.div_ceil(PAGE) * PAGE;
        let end = entry.end / PAGE * PAGE;
        if end > start {
            // SAFETY: the map is a read-only private file mapping that is never written, so
            // dropping its pages only makes the next access re-read them from the file; no
            // reference into the released range is alive (the caller is done with the tensor).
            let _ = unsafe {
                self.maps[entry.file].unchecked_advise_range(
                    UncheckedAdvice::DontNeed,
                    start,
                    end - start,
                )
            };
        }
    }
}

/// The top-level entries of a JSON object, in order, duplicates kept.
struct Entries(Vec<(String, serde_json::Value)>);

struct EntriesVisitor;

impl<'de> Visitor<'de> for EntriesVisitor {
    type Value = Entries;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<Entries, A::Error> {
        let mut out = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            out.push((key, map.next_value::<serde_json::Value>()?));
        }
        Ok(Entries(out))
    }
}

impl<'de> serde::Deserialize<'de> for Entries {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        d.deserialize_map(EntriesVisitor)
    }
}

/// Validates the header of one mapped safetensors file and lists its tensors (header order).
fn parse_header(buf: &[u8], label: &str) -> Result<Vec<TensorEntry>> {
    let len = buf.len() as u64;
    let mut n8 = [0u8; 8];
    n8.copy_from_slice(&buf[..8]);
    let n = u64::from_le_bytes(n8);
    if n > len - 8 {
        return Err(err(
            label,
            "",
            format!(
                "header length {n} bytes exceeds the file ({len} bytes): truncated or not a \
                 safetensors file"
            ),
        ));
    }
    if n > MAX_HEADER {
        return Err(err(
            label,
            "",
            format!("header of {n} bytes is larger than the 100 MB limit"),
        ));
    }
    let header_end = 8 + n as usize;
    let data_len = buf.len() - header_end;
    let text = std::str::from_utf8(&buf[8..header_end])
        .map_err(|e| err(label, "", format!("header is not UTF-8: {e}")))?;
    let Entries(entries) = serde_json::from_str::<Entries>(text)
        .map_err(|e| err(label, "", format!("header is not a valid JSON object: {e}")))?;
    let mut names = HashSet::new();
    let mut out = Vec::with_capacity(entries.len());
    for (name, value) in entries {
        if !names.insert(name.clone()) {
            return Err(err(label, &name, "duplicate tensor name in the header"));
        }
        if name == "__metadata__" {
            continue;
        }
        let info: safetensors::tensor::TensorInfo = serde_json::from_value(value)
            .map_err(|e| err(label, &name, format!("invalid header entry: {e}")))?;
        let dtype = format!("{:?}", info.dtype);
        let (s, e) = info.data_offsets;
        if e < s {
            return Err(err(
                label,
                &name,
                format!("data_offsets [{s}, {e}] end before they start"),
            ));
        }
        if e > data_len {
            return Err(err(
                label,
                &name,
                format!(
                    "data_offsets [{s}, {e}] are out of range: the data section has {data_len} \
                     bytes (truncated file?)"
                ),
            ));
        }
        let elements = info.shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
        let bits = elements.and_then(|x| x.checked_mul(info.dtype.bitsize()));
        let Some(bits) = bits else {
            return Err(err(
                label,
                &name,
                format!("shape {:?} overflows", info.shape),
            ));
        };
        if bits % 8 != 0 || bits / 8 != e - s {
            return Err(err(
                label,
                &name,
                format!(
                    "dtype {dtype} with shape {:?} needs {} bytes but data_offsets [{s}, {e}] span \
                     {} bytes",
                    info.shape,
                    bits.div_ceil(8),
                    e - s
                ),
            ));
        }
        out.push(TensorEntry {
            name,
            file: 0,
            dtype,
            shape: info.shape,
            start: header_end + s,
            end: header_end + e,
        });
    }
    let mut by_start: Vec<&TensorEntry> = out.iter().filter(|t| t.end > t.start).collect();
    by_start.sort_by_key(|t| (t.start, t.end));
    for pair in by_start.windows(2) {
        if pair[1].start < pair[0].end {
            return Err(err(
                label,
                &pair[1].name,
                format!("data overlaps tensor {:?}", pair[0].name),
            ));
        }
    }
    if let Err(e) = safetensors::SafeTensors::read_metadata(buf) {
        let tensor = match &e {
            safetensors::SafeTensorError::InvalidOffset(t) => t.clone(),
            _ => String::new(),
        };
        return Err(err(
            label,
            &tensor,
            format!("invalid safetensors layout: {e}"),
        ));
    }
    Ok(out)
}

/// An IEEE binary16 value widened to binary32 (exact).
pub fn f16_to_f32(h: u16) -> f32 {
    let sign = u32::from(h >> 15) << 31;
    let exp = u32::from((h >> 10) & 0x1f);
    let man = u32::from(h & 0x3ff);
    if exp == 0 {
        let v = man as f32 * f32::from_bits(0x3380_0000); // man · 2^-24, exact
        return if sign != 0 { -v } else { v };
    }
    let bits = if exp == 0x1f {
        sign | 0x7f80_0000 | (man << 13)
    } else {
        sign | ((exp + 112) << 23) | (man << 13)
    };
    f32::from_bits(bits)
}

/// A bfloat16 value widened to binary32 (exact).
pub fn bf16_to_f32(b: u16) -> f32 {
    f32::from_bits(u32::from(b) << 16)
}

/// Values of a rectangular block of a tensor viewed as a row-major matrix, borrowed in place when
/// possible. Element (i, j) of the block is `data[i * row_stride + j]`.
#[derive(Debug, Clone, PartialEq)]
pub enum Block<'a> {
    /// Single precision (F32, F16 and BF16 tensors).
    F32 {
        /// Values.
        data: Cow<'a, [f32]>,
        /// Distance between rows, in elements.
        row_stride: usize,
        /// Rows of the block.
        rows: usize,
        /// Columns of the block.
        cols: usize,
    },
    /// Double precision (F64 tensors).
    F64 {
        /// Values.
        data: Cow<'a, [f64]>,
        /// Distance between rows, in elements.
        row_stride: usize,
        /// Rows of the block.
        rows: usize,
        /// Columns of the block.
        cols: usize,
    },
}

/// Borrows `bytes` as a slice of `T` when aligned and the machine is little-endian.
fn cast_slice<T: Copy>(bytes: &[u8]) -> Option<&[T]> {
    let size = std::mem::size_of::<T>();
    if cfg!(target_endian = "little")
        && bytes.len() % size == 0
        && bytes.as_ptr().align_offset(std::mem::align_of::<T>()) == 0
    {
        // SAFETY: the pointer is aligned for T, the length is a whole number of T, T is a plain
        // float type for which every bit pattern is valid, and the lifetime is that of `bytes`.
        Some(unsafe { std::slice::from_raw_parts(bytes.as_ptr() as *const T, bytes.len() / size) })
    } else {
        None
    }
}

/// The little-endian values of `bytes`: borrowed in place when aligned (little-endian targets),
/// decoded with `from_le` (on N-byte chunks) otherwise.
fn borrow_or_decode<T: Copy, const N: usize>(
    bytes: &[u8],
    from_le: fn([u8; N]) -> T,
) -> Cow<'_, [T]> {
    match cast_slice::<T>(bytes) {
        Some(s) => Cow::Borrowed(s),
        None => Cow::Owned(
            bytes
                .chunks_exact(N)
                .map(|c| from_le(c.try_into().expect("chunks of N bytes")))
                .collect(),
        ),
    }
}

/// The error naming the NaN or Inf at (`row`, `col`) of the tensor `t` seen as a row-major
/// matrix.
pub fn non_finite(t: &TensorView<'_>, row: usize, col: usize) -> Error {
    err(
        t.file,
        t.name,
        format!("non-finite value (NaN or Inf) at row {row}, column {col}"),
    )
}

/// Decodes the block `rows × cols` of the tensor `t` seen as a row-major matrix with
/// `t_cols` columns: rows `rows.start..rows.end`, columns `cols.start..cols.end`.
///
/// The values are not checked: `F32`/`F64` blocks are borrowed in place, and a consumer checks
/// them in its own pass (a NaN stays NaN and an infinity infinite when half precision is
/// widened). Errors name the tensor when the block does not fit it.
pub fn decode_block<'a>(
    t: &TensorView<'a>,
    t_cols: usize,
    rows: std::ops::Range<usize>,
    cols: std::ops::Range<usize>,
) -> Result<Block<'a>> {
    let size = t.dtype.size();
    let total = t.bytes.len() / size;
    if t_cols == 0
        || total % t_cols != 0
        || rows.end > total / t_cols
        || cols.end > t_cols
        || rows.start >= rows.end
        || cols.start >= cols.end
    {
        return Err(err(
            t.file,
            t.name,
            format!(
                "block rows {rows:?} x columns {cols:?} does not fit a tensor of {total} values \
                 with {t_cols} columns"
            ),
        ));
    }
    let (nr, nc) = (rows.end - rows.start, cols.end - cols.start);
    let first = rows.start * t_cols + cols.start;
    let last = (rows.end - 1) * t_cols + cols.end;
    let bytes = &t.bytes[first * size..last * size];
    match t.dtype {
        FloatType::F32 => {
            let data = borrow_or_decode(bytes, f32::from_le_bytes);
            Ok(Block::F32 {
                data,
                row_stride: t_cols,
                rows: nr,
                cols: nc,
            })
        }
        FloatType::F64 => {
            let data = borrow_or_decode(bytes, f64::from_le_bytes);
            Ok(Block::F64 {
                data,
                row_stride: t_cols,
                rows: nr,
                cols: nc,
            })
        }
        FloatType::F16 | FloatType::BF16 => {
            let widen = if t.dtype == FloatType::F16 {
                f16_to_f32
            } else {
                bf16_to_f32
            };
            let mut data = Vec::with_capacity(nr * nc);
            for r in 0..nr {
                let row = &bytes[r * t_cols * 2..(r * t_cols + nc) * 2];
                data.extend(
                    row.chunks_exact(2)
                        .map(|b| widen(u16::from_le_bytes([b[0], b[1]]))),
                );
            }
            Ok(Block::F32 {
                data: Cow::Owned(data),
                row_stride: nc,
                rows: nr,
                cols: nc,
            })
        }
    }
}

impl Block<'_> {
    /// (rows, columns) of the block.
    pub fn shape(&self) -> (usize, usize) {
        match self {
            Block::F32 { rows, cols, .. } | Block::F64 { rows, cols, .. } => (*rows, *cols),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::io::Write;

    /// Writes a safetensors file from (name, dtype, shape, bytes) in order, offsets contiguous.
    pub(crate) fn write_file(path: &Path, tensors: &[(&str, &str, Vec<usize>, Vec<u8>)]) {
        let mut header = String::from("{");
        let mut offset = 0;
        for (i, (name, dtype, shape, bytes)) in tensors.iter().enumerate() {
            if i > 0 {
                header.push(',');
            }
            header.push_str(&format!(
                "\"{name}\":{{\"dtype\":\"{dtype}\",\"shape\":{shape:?},\"data_offsets\":[{offset},{}]}}",
                offset + bytes.len()
            ));
            offset += bytes.len();
        }
        header.push('}');
        write_raw(
            path,
            &header,
            &tensors.iter().flat_map(|t| t.3.clone()).collect::<Vec<_>>(),
        );
    }

    pub(crate) fn write_raw(path: &Path, header: &str, data: &[u8]) {
        let mut f = File::create(path).unwrap();
        f.write_all(&(header.len() as u64).to_le_bytes()).unwrap();
        f.write_all(header.as_bytes()).unwrap();
        f.write_all(data).unwrap();
    }

    fn f32_bytes(v: &[f32]) -> Vec<u8> {
        v.iter().flat_map(|x| x.to_le_bytes()).collect()
    }

    fn tmp(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("gsalign-ckpt-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn reason(e: Error) -> (String, String) {
        match e {
            Error::Checkpoint { tensor, reason, .. } => (tensor, reason),
            other => panic!("expected a checkpoint error, got {other:?}"),
        }
    }

    #[test]
    fn reads_a_valid_file_and_blocks() {
        let dir = tmp("valid");
        let p = dir.join("m.safetensors");
        let w: Vec<f32> = (0..12).map(|x| x as f32).collect();
        write_file(
            &p,
            &[
                ("a.weight", "F32", vec![3, 4], f32_bytes(&w)),
                ("b", "I64", vec![2], vec![0; 16]),
            ],
        );
        let ck = Checkpoint::open(&p).unwrap();
        assert_eq!(ck.tensors().len(), 2);
        let e = &ck.tensors()[0];
        assert_eq!((e.name.as_str(), e.shape.clone()), ("a.weight", vec![3, 4]));
        assert!(ck.view(&ck.tensors()[1]).is_none());
        let v = ck.view(e).unwrap();
        let b = decode_block(&v, 4, 1..3, 2..4).unwrap();
        match b {
            Block::F32 {
                data,
                row_stride,
                rows,
                cols,
            } => {
                assert_eq!((rows, cols), (2, 2));
                assert_eq!(data[0], 6.0);
                assert_eq!(data[1], 7.0);
                assert_eq!(data[row_stride], 10.0);
                assert_eq!(data[row_stride + 1], 11.0);
            }
            other => panic!("{other:?}"),
        }
        ck.release(e);
    }

    #[test]
    fn half_precision_conversions_are_exact() {
        assert_eq!(f16_to_f32(0x3c00), 1.0);
        assert_eq!(f16_to_f32(0xc000), -2.0);
        assert_eq!(f16_to_f32(0x0001), 2f32.powi(-24));
        assert_eq!(f16_to_f32(0x7bff), 65504.0);
        assert!(f16_to_f32(0x7c00).is_infinite());
        assert!(f16_to_f32(0x7e00).is_nan());
        assert_eq!(bf16_to_f32(0x3f80), 1.0);
        assert_eq!(bf16_to_f32(0xc040), -3.0);
        for bits in 0..=u16::MAX {
            let (sign, exp, man) = (
                bits >> 15,
                i32::from((bits >> 10) & 0x1f),
                f64::from(bits & 0x3ff),
            );
            if exp == 0x1f {
                continue;
            }
            let magnitude = if exp == 0 {
                man * 2f64.powi(-24)
            } else {
                (1.0 + man / 1024.0) * 2f64.powi(exp - 15)
            };
            let expected = if sign == 1 { -magnitude } else { magnitude };
            assert_eq!(f64::from(f16_to_f32(bits)), expected, "bits {bits:#06x}");
        }
    }

    #[test]
    fn rejects_corrupt_files_with_named_errors() {
        let dir = tmp("corrupt");
        type Case = (&'static str, Box<dyn Fn(&Path)>, &'static str, &'static str);
        let cases: Vec<Case> = vec![
            (
                "short",
                Box::new(|p: &Path| std::fs::write(p, [1u8, 2, 3]).unwrap()),
                "",
                "truncated",
            ),
            (
                "hlen",
                Box::new(|p: &Path| {
                    let mut b = 1_000_000u64.to_le_bytes().to_vec();
                    b.extend_from_slice(b"{}");
                    std::fs::write(p, b).unwrap()
                }),
                "",
                "exceeds the file",
            ),
            (
                "json",
                Box::new(|p: &Path| write_raw(p, "{\"a\": [1,", &[])),
                "",
                "not a valid JSON",
            ),
            (
                "dup",
                Box::new(|p: &Path| {
                    write_raw(
                        p,
                        "{\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]},\
                         \"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}",
                        &[0; 16],
                    )
                }),
                "w",
                "duplicate",
            ),
            (
                "range",
                Box::new(|p: &Path| {
                    write_raw(
                        p,
                        "{\"w\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]}}",
                        &[0; 8],
                    )
                }),
                "w",
                "out of range",
            ),
            (
                "overlap",
                Box::new(|p: &Path| {
                    write_raw(
                        p,
                        "{\"u\":{\"dtype\":\"F32\",\"shape\":[2,2],\"data_offsets\":[0,16]},\
                         \"v\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}",
                        &[0; 16],
                    )
                }),
                "v",
                "overlaps",
            ),
            (
                "bytes",
                Box::new(|p: &Path| {
                    write_raw(
                        p,
                        "{\"w\":{\"dtype\":\"BF16\",\"shape\":[2,2],\"data_offsets\":[0,16]}}",
                        &[0; 16],
                    )
                }),
                "w",
                "needs 8 bytes",
            ),
            (
                "dtype",
                Box::new(|p: &Path| {
                    write_raw(
                        p,
                        "{\"w\":{\"dtype\":\"F128\",\"shape\":[2],\"data_offsets\":[0,32]}}",
                        &[0; 32],
                    )
                }),
                "w",
                "invalid header entry",
            ),
            (
                "gap",
                Box::new(|p: &Path| {
                    write_raw(
                        p,
                        "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,16]}}",
                        &[0; 16],
                    )
                }),
                "w",
                "invalid safetensors layout",
            ),
        ];
        for (name, write, tensor, needle) in cases {
            let p = dir.join(format!("{name}.safetensors"));
            write(&p);
            let (t, r) = reason(Checkpoint::open(&p).unwrap_err());
            assert_eq!(t, tensor, "{name}: {r}");
            assert!(r.contains(needle), "{name}: {r}");
        }
    }

    #[test]
    fn pickles_are_never_opened_and_directories_and_indexes_work() {
        let dir = tmp("dir");
        std::fs::write(dir.join("pytorch_model.bin"), b"not read").unwrap();
        let (_, r) = reason(Checkpoint::open(dir.join("pytorch_model.bin")).unwrap_err());
        assert!(r.contains("pickle"), "{r}");
        let (_, r) = reason(Checkpoint::open(&dir).unwrap_err());
        assert!(r.contains("pickle"), "{r}");
        let a = f32_bytes(&[1.0; 4]);
        write_file(
            &dir.join("a.safetensors"),
            &[("x", "F32", vec![2, 2], a.clone())],
        );
        write_file(
            &dir.join("b.safetensors"),
            &[("y", "F32", vec![2, 2], a.clone())],
        );
        let ck = Checkpoint::open(&dir).unwrap();
        assert_eq!(ck.tensors().len(), 2);
        std::fs::write(
            dir.join("model.safetensors.index.json"),
            r#"{"metadata": {}, "weight_map": {"x": "a.safetensors", "y": "b.safetensors"}}"#,
        )
        .unwrap();
        let ck = Checkpoint::open(&dir).unwrap();
        assert_eq!(ck.files().len(), 2);
        std::fs::write(
            dir.join("model.safetensors.index.json"),
            r#"{"weight_map": {"x": "b.safetensors"}}"#,
        )
        .unwrap();
        let (t, r) = reason(Checkpoint::open(&dir).unwrap_err());
        assert_eq!(t, "x");
        assert!(r.contains("does not hold it"), "{r}");
        std::fs::write(
            dir.join("model.safetensors.index.json"),
            r#"{"weight_map": {"x": "../a.safetensors"}}"#,
        )
        .unwrap();
        let (_, r) = reason(Checkpoint::open(&dir).unwrap_err());
        assert!(r.contains("plain relative path"), "{r}");
        std::fs::remove_file(dir.join("model.safetensors.index.json")).unwrap();
        write_file(&dir.join("c.safetensors"), &[("x", "F32", vec![2, 2], a)]);
        let (t, r) = reason(Checkpoint::open(&dir).unwrap_err());
        assert_eq!(t, "x");
        assert!(r.contains("duplicate"), "{r}");
    }

    #[test]
    fn random_corruptions_never_panic() {
        let dir = tmp("fuzz");
        let p = dir.join("m.safetensors");
        let w = f32_bytes(&[1.0, -2.0, 3.0, 0.5, 0.25, 8.0]);
        write_file(
            &p,
            &[
                ("a", "F32", vec![2, 3], w.clone()),
                ("b", "F16", vec![3], vec![0, 60, 0, 60, 0, 60]),
            ],
        );
        let original = std::fs::read(&p).unwrap();
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let q = dir.join("x.safetensors");
        for trial in 0..400 {
            let mut bytes = original.clone();
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            match trial % 3 {
                0 => bytes.truncate((state as usize) % bytes.len()),
                1 => {
                    let i = (state as usize) % bytes.len();
                    bytes[i] = (state >> 32) as u8;
                }
                _ => {
                    let i = 8 + (state as usize) % (bytes.len() - 8);
                    bytes[i] = b"{}[]\":,0123456789-e"[(state >> 40) as usize % 19];
                }
            }
            std::fs::write(&q, &bytes).unwrap();
            if let Ok(ck) = Checkpoint::open(&q) {
                for e in ck.tensors() {
                    if let Some(v) = ck.view(e) {
                        let cols = *e.shape.last().unwrap_or(&1);
                        let rows = (v.bytes.len() / v.dtype.size())
                            .checked_div(cols)
                            .unwrap_or(0);
                        let _ = decode_block(&v, cols, 0..rows, 0..cols);
                    }
                }
            }
        }
    }
}
