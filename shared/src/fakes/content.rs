//! Bytes the fakes hand out as "videos".

/// Placeholder MP4-ish content naming what produced it.
pub(crate) fn fake_mp4(label: &str) -> Vec<u8> {
    // An ISO-BMFF `ftyp` box header followed by a label: enough for a content-type sniff.
    let mut v = vec![0, 0, 0, 0x18, b'f', b't', b'y', b'p', b'i', b's', b'o', b'm'];
    v.extend_from_slice(&[0, 0, 2, 0, b'i', b's', b'o', b'm', b'm', b'p', b'4', b'1']);
    v.extend_from_slice(label.as_bytes());
    v
}
