//! How a request path is read: the one normalisation the proxy's router and the request
//! policies share, so a path cannot be routed one way and judged another.

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
