//! Vector spaces: other models' vectors of a collection's items beside the first model's, each
//! space with its own index (`cbir_collection_add_space` and the calls after it in cbir.h).
//! Searches pick a space through [`SearchOptions::space`](crate::SearchOptions).
use std::os::raw::c_void;
use std::ptr;

use crate::collection::{item_strings, raw_items, Collection, Item};
use crate::error::{borrowed, check, Error, Result};
use crate::ffi;
use crate::strings::{c_opt, c_string, ptr_or_null};

const EINVAL: i32 = -1;

/// One vector space of a collection (`cbir_space_info_t`, strings copied).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpaceInfo {
    pub name: String,
    pub fingerprint: String,
    pub index_spec: String,
    pub effective_spec: String,
    pub dim: usize,
    /// The collection's first space (made with it).
    pub first: bool,
    /// Items with a vector in this space.
    pub count: u64,
    pub generation: i64,
}

/// Row-major vectors of one space, for [`Collection::add_spaces`]: `space` None is the first.
pub struct SpaceVectors<'a> {
    pub space: Option<&'a str>,
    pub vectors: &'a [f32],
    pub dim: usize,
}

impl Collection {
    /// Adds an empty vector space named `name` (1 to 32 of a-z, 0-9, '_', '-') for `dim`-float
    /// vectors of the model with `fingerprint`; committed at once. `Exists` when it is taken.
    pub fn add_space(&self, name: &str, dim: usize, fingerprint: &str, index_spec: Option<&str>) -> Result<()> {
        let name = c_string(name, "name")?;
        let fingerprint = c_string(fingerprint, "fingerprint")?;
        let spec = c_opt(index_spec, "index_spec")?;
        let dim = i32::try_from(dim).map_err(|_| Error::new(EINVAL, format!("dim {} is too large", dim)))?;
        check(unsafe {
            ffi::cbir_collection_add_space(self.as_mut_ptr(), name.as_ptr(), dim, fingerprint.as_ptr(),
                                           ptr_or_null(&spec))
        })
    }

    /// Every vector space, the first one first.
    pub fn spaces(&self) -> Result<Vec<SpaceInfo>> {
        let mut raw = ptr::null_mut();
        let mut n = 0usize;
        check(unsafe { ffi::cbir_collection_spaces(&mut raw, &mut n, self.as_ptr()) })?;
        let infos = unsafe {
            std::slice::from_raw_parts(raw, n)
                .iter()
                .map(|s| SpaceInfo {
                    name: borrowed(s.name),
                    fingerprint: borrowed(s.fingerprint),
                    index_spec: borrowed(s.index_spec),
                    effective_spec: borrowed(s.effective_spec),
                    dim: s.dim as usize,
                    first: s.first != 0,
                    count: s.count,
                    generation: s.generation,
                })
                .collect()
        };
        unsafe { ffi::cbir_free(raw as *mut c_void) };
        Ok(infos)
    }

    /// Adds (or with `upsert`, replaces) items with their vectors in several spaces at once,
    /// the first space's included. All or nothing; an upserted item leaves the spaces not given.
    pub fn add_spaces(&self, items: &[Item], spaces: &[SpaceVectors<'_>], upsert: bool) -> Result<Vec<i64>> {
        let names = spaces
            .iter()
            .map(|s| c_opt(s.space, "space"))
            .collect::<Result<Vec<_>>>()?;
        let mut raw_spaces = Vec::with_capacity(spaces.len());
        for (s, name) in spaces.iter().zip(&names) {
            if s.dim == 0 || s.vectors.len() != items.len() * s.dim {
                return Err(Error::new(EINVAL, format!(
                    "{} floats for {} items of dim {} in the space {:?}", s.vectors.len(), items.len(), s.dim, s.space)));
            }
            raw_spaces.push(ffi::cbir_space_vectors_t { space: ptr_or_null(name), vectors: s.vectors.as_ptr(), dim: s.dim });
        }
        let strings = item_strings(items)?;
        let raw = raw_items(items, &strings);
        let mut ids = vec![0i64; items.len()];
        check(unsafe {
            ffi::cbir_collection_add_spaces(ids.as_mut_ptr(), self.as_mut_ptr(), raw.as_ptr(), raw.len(),
                                            raw_spaces.as_ptr(), raw_spaces.len(), i32::from(upsert))
        })?;
        Ok(ids)
    }

    /// Sets the vectors (row-major, `dim` each) of items already in the collection in a space
    /// other than the first. All or nothing: `NotFound` for an unknown id.
    pub fn set_space_vectors(&self, space: &str, ids: &[i64], vectors: &[f32], dim: usize) -> Result<()> {
        if dim == 0 || vectors.len() != ids.len() * dim {
            return Err(Error::new(EINVAL, format!("{} floats for {} ids of dim {}", vectors.len(), ids.len(), dim)));
        }
        let space = c_string(space, "space")?;
        check(unsafe {
            ffi::cbir_collection_set_space_vectors(self.as_mut_ptr(), space.as_ptr(), ids.as_ptr(),
                                                   vectors.as_ptr(), ids.len(), dim)
        })
    }

    /// The stored vector of an item in a space (None = the first).
    pub fn space_vector(&self, id: i64, space: Option<&str>) -> Result<Vec<f32>> {
        let dim = self
            .spaces()?
            .into_iter()
            .find(|s| match space { Some(n) => s.name == n, None => s.first })
            .map_or(1, |s| s.dim);  // none: the library's error names the spaces
        let name = c_opt(space, "space")?;
        let mut out = vec![0f32; dim];
        check(unsafe {
            ffi::cbir_collection_get_space_vector(out.as_mut_ptr(), dim, self.as_ptr(), ptr_or_null(&name), id)
        })?;
        Ok(out)
    }

    /// Rebuilds one space's index from its stored vectors (None keeps its spec).
    pub fn rebuild_space(&self, space: &str, index_spec: Option<&str>) -> Result<()> {
        let space = c_string(space, "space")?;
        let spec = c_opt(index_spec, "index_spec")?;
        check(unsafe { ffi::cbir_collection_rebuild_space(self.as_mut_ptr(), space.as_ptr(), ptr_or_null(&spec)) })
    }
}
