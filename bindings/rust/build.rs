//! Finds libcbir: CBIR_LIB_DIR (the folder holding libcbir.so) when set, else pkg-config's
//! `cbir` package (set PKG_CONFIG_PATH for a non-system prefix).
use std::env;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=CBIR_LIB_DIR");
    println!("cargo:rerun-if-env-changed=PKG_CONFIG_PATH");
    if let Ok(dir) = env::var("CBIR_LIB_DIR") {
        println!("cargo:rustc-link-search=native={}", dir);
        println!("cargo:rustc-link-lib=dylib=cbir");
        return;
    }
    let out = Command::new("pkg-config").args(["--libs", "cbir"]).output();
    let out = match out {
        Ok(o) if o.status.success() => o,
        Ok(o) => panic!(
            "pkg-config cannot find cbir ({}): install libcbir, set PKG_CONFIG_PATH to the folder \
             holding cbir.pc, or set CBIR_LIB_DIR to the folder holding libcbir.so",
            String::from_utf8_lossy(&o.stderr).trim()
        ),
        Err(e) => panic!("cannot run pkg-config ({}): install it, or set CBIR_LIB_DIR", e),
    };
    for flag in String::from_utf8_lossy(&out.stdout).split_whitespace() {
        if let Some(dir) = flag.strip_prefix("-L") {
            println!("cargo:rustc-link-search=native={}", dir);
        } else if let Some(lib) = flag.strip_prefix("-l") {
            println!("cargo:rustc-link-lib=dylib={}", lib);
        }
    }
}
