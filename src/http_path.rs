//! How a request path is read: the one normalisation the proxy's router and the request
//! policies share, so a path cannot be routed one way and judged another.

/// Whether `path` is already what [`normalize`] makes of it: absolute, with no escapes, no
/// empty segment but a trailing one, and no `.` or `..` segment.
pub fn is_normal(path: &str) -> bool {
    path.starts_with('/')
        && !path.contains('%')
        && !path.contains("//")
        && !path.split('/').any(|seg| seg == "." || seg == "..")
}

/// A path as a server reads it: unreserved characters unescaped, empty and `.` segments
/// dropped, `..` applied.
pub fn normalize(path: &str) -> String {
    let bytes = path.as_bytes();
    let mut unescaped = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(hex) = path.get(i + 1..i + 3)
            && let Ok(b) = u8::from_str_radix(hex, 16)
            && (b.is_ascii_alphanumeric() || b"-._~".contains(&b))
        {
            unescaped.push(b);
            i += 3;
            continue;
        }
        unescaped.push(bytes[i]);
        i += 1;
    }
    let text = String::from_utf8_lossy(&unescaped);
    let mut segments: Vec<&str> = Vec::new();
    for seg in text.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    let mut out = format!("/{}", segments.join("/"));
    if text.ends_with('/') && out.len() > 1 {
        out.push('/');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// The router skips normalising a path `is_normal` accepts: that must change nothing.
        #[test]
        fn a_path_is_normal_only_when_normalising_leaves_it_as_it_is(
            path in "[/a-z.%0-9]{0,24}"
        ) {
            if is_normal(&path) {
                prop_assert_eq!(normalize(&path), path);
            }
        }
    }

    #[test]
    fn paths_with_dot_segments_escapes_or_doubled_slashes_are_not_normal() {
        for path in [
            "", "a/b", "/a//b", "/a/./b", "/a/../b", "/a/..", "/.", "/%61",
        ] {
            assert!(!is_normal(path), "{path}");
        }
        for path in ["/", "/v1/models", "/v1/", "/a.b/..c/c.."] {
            assert!(is_normal(path), "{path}");
            assert_eq!(normalize(path), path);
        }
    }
}
