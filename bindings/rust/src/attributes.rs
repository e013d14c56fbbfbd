//! Photo facts, user attributes, near-duplicate groups and composite queries.
use std::ffi::CString;
use std::os::raw::c_void;
use std::path::Path;
use std::ptr;

use crate::collection::{search_options, take, Collection, SearchOptions};
use crate::error::{borrowed, check, Error, Result};
use crate::ffi;
use crate::model::Model;
use crate::strings::{c_path, c_string};

const EINVAL: i32 = -1;

/// What an indexed file said of itself (`cbir_collection_get_photo`): its format, and from EXIF
/// the capture time (the camera clock's wall time as seconds since 1970 read as UTC, with its
/// UTC offset in minutes when the file gives it), the camera and the GPS position.
#[derive(Debug, Clone, PartialEq)]
pub struct Photo {
    pub format: String,
    pub taken: Option<i64>,
    pub offset_minutes: Option<i32>,
    pub make: String,
    pub model: String,
    /// (latitude, longitude) in degrees, north and east positive.
    pub location: Option<(f64, f64)>,
}

/// A user attribute's value. `Time` is seconds since 1970-01-01 UTC.
#[derive(Debug, Clone, PartialEq)]
pub enum AttrValue {
    String(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Time(i64),
}

/// One part of a composite query (see [`compose_query`]).
pub enum QueryPart<'a> {
    /// A text, Chinese or English.
    Text(&'a str),
    /// An image file.
    ImageFile(&'a Path),
    /// An encoded image (JPEG, PNG, ...).
    Image(&'a [u8]),
    /// An item of the collection: its stored vector.
    Item(i64),
    /// A raw vector of the model's dimension.
    Vector(&'a [f32]),
}

impl Collection {
    /// The photo facts of item `id`.
    pub fn photo(&self, id: i64) -> Result<Photo> {
        let mut raw = ptr::null_mut();
        check(unsafe { ffi::cbir_collection_get_photo(&mut raw, self.as_ptr(), id) })?;
        unsafe {
            let r = &*raw;
            let photo = Photo {
                format: borrowed(r.format),
                taken: (r.has_taken != 0).then_some(r.taken),
                offset_minutes: (r.has_offset != 0).then_some(r.offset_minutes),
                make: borrowed(r.make),
                model: borrowed(r.model),
                location: (r.has_location != 0).then_some((r.lat, r.lon)),
            };
            ffi::cbir_free(raw as *mut c_void);
            Ok(photo)
        }
    }

    /// Sets (`Some`) or removes (`None`) user attributes `(id, key, value)`, all or nothing;
    /// durable at [`Collection::commit`]. Filters name them as `attr.KEY`. Returns how many
    /// changed something.
    pub fn set_attrs(&self, attrs: &[(i64, &str, Option<AttrValue>)]) -> Result<usize> {
        let mut strings: Vec<CString> = Vec::new();
        let mut raw = Vec::with_capacity(attrs.len());
        for (id, key, value) in attrs {
            let key = c_string(key, "attribute key")?;
            let mut a = ffi::cbir_attr_t {
                id: *id,
                key: key.as_ptr(),
                type_: 0,
                int_value: 0,
                float_value: 0.0,
                string_value: ptr::null(),
            };
            strings.push(key);
            match value {
                None => {}
                Some(AttrValue::String(s)) => {
                    let s = c_string(s, "attribute value")?;
                    a.type_ = 1;
                    a.string_value = s.as_ptr();
                    strings.push(s);
                }
                Some(AttrValue::Int(v)) => (a.type_, a.int_value) = (2, *v),
                Some(AttrValue::Float(v)) => (a.type_, a.float_value) = (3, *v),
                Some(AttrValue::Bool(v)) => (a.type_, a.int_value) = (4, *v as i64),
                Some(AttrValue::Time(v)) => (a.type_, a.int_value) = (5, *v),
            }
            raw.push(a);
        }
        let mut changed = 0usize;
        check(unsafe {
            ffi::cbir_collection_set_attrs(&mut changed, self.as_mut_ptr(), raw.as_ptr(), raw.len())
        })?;
        Ok(changed)
    }

    /// The user attributes of item `id`, by key.
    pub fn attrs(&self, id: i64) -> Result<Vec<(String, AttrValue)>> {
        let (mut raw, mut n) = (ptr::null_mut(), 0usize);
        check(unsafe { ffi::cbir_collection_get_attrs(&mut raw, &mut n, self.as_ptr(), id) })?;
        if raw.is_null() {
            return Ok(Vec::new());
        }
        let out = unsafe {
            std::slice::from_raw_parts(raw, n)
                .iter()
                .map(|a| {
                    let value = match a.type_ {
                        1 => AttrValue::String(borrowed(a.string_value)),
                        3 => AttrValue::Float(a.float_value),
                        4 => AttrValue::Bool(a.int_value != 0),
                        5 => AttrValue::Time(a.int_value),
                        _ => AttrValue::Int(a.int_value),
                    };
                    (borrowed(a.key), value)
                })
                .collect()
        };
        unsafe { ffi::cbir_free(raw as *mut c_void) };
        Ok(out)
    }

    /// Groups of near-identical items: ids whose vectors score at least `min_score` against
    /// each other, joined transitively; ids ascending in each group, groups by their first id.
    pub fn duplicates(&self, min_score: f32, options: &SearchOptions<'_>) -> Result<Vec<Vec<i64>>> {
        let (opts, _strings) = search_options(options)?;
        let (mut ids, mut offsets, mut n) = (ptr::null_mut(), ptr::null_mut(), 0usize);
        check(unsafe {
            ffi::cbir_collection_duplicates(&mut ids, &mut offsets, &mut n, self.as_ptr(), min_score, &opts,
                                            ptr::null(), ptr::null_mut())
        })?;
        if n == 0 {
            return Ok(Vec::new());
        }
        let offsets = unsafe { take(offsets, n + 1) };
        let ids = unsafe { take(ids, offsets[n]) };
        Ok(offsets.windows(2).map(|w| ids[w[0]..w[1]].to_vec()).collect())
    }
}

/// One query vector from `(part, weight)` pairs (`cbir_query_compose`): the normalised sum of
/// each weight times its part's normalised vector, to pass to [`Collection::search`]. `model`
/// is needed for texts and images, `coll` for items.
pub fn compose_query(parts: &[(QueryPart<'_>, f32)], model: Option<&Model>,
                     coll: Option<&Collection>) -> Result<Vec<f32>> {
    let dim = model.map(|m| m.dim()).or(coll.map(|c| c.dim()))
        .ok_or_else(|| Error::new(EINVAL, "compose_query needs a model or a collection"))?;
    let mut strings: Vec<CString> = Vec::new();
    let mut raw = Vec::with_capacity(parts.len());
    for (i, (part, weight)) in parts.iter().enumerate() {
        let mut p = ffi::cbir_query_part_t {
            kind: 0,
            weight: *weight,
            text: ptr::null(),
            data: ptr::null(),
            size: 0,
            vector: ptr::null(),
            id: 0,
        };
        match part {
            QueryPart::Text(t) => {
                let s = c_string(t, "query text")?;
                (p.kind, p.text) = (1, s.as_ptr());
                strings.push(s);
            }
            QueryPart::ImageFile(path) => {
                let s = c_path(path)?;
                (p.kind, p.text) = (2, s.as_ptr());
                strings.push(s);
            }
            QueryPart::Image(bytes) => (p.kind, p.data, p.size) = (3, bytes.as_ptr() as *const c_void, bytes.len()),
            QueryPart::Item(id) => (p.kind, p.id) = (4, *id),
            QueryPart::Vector(v) => {
                if v.len() != dim {
                    return Err(Error::new(EINVAL, format!("part {}: a vector of {} floats, not {}", i, dim, v.len())));
                }
                (p.kind, p.vector) = (5, v.as_ptr());
            }
        }
        raw.push(p);
    }
    let mut out = vec![0f32; dim];
    check(unsafe {
        ffi::cbir_query_compose(out.as_mut_ptr(), dim, model.map_or(ptr::null(), |m| m.as_ptr()),
                                coll.map_or(ptr::null(), |c| c.as_ptr()), raw.as_ptr(), raw.len())
    })?;
    Ok(out)
}
