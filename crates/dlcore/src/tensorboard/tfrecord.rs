//! TFRecord, the framing of a TensorBoard event file: a sequence of records, each
//!
//! ```text
//! length           u64, little-endian
//! crc(length)      u32, little-endian: masked CRC-32C of the 8 length bytes
//! payload          `length` bytes (one serialised protobuf `Event`)
//! crc(payload)     u32, little-endian: masked CRC-32C of the payload
//! ```
//!
//! The checksums let a reader tell a complete record from the torn end of a file
//! whose writer was interrupted: it reads up to the last complete record and stops.

use std::io::{self, Write};

/// Bytes of framing around a payload: length, its checksum, the payload's checksum.
pub const OVERHEAD: usize = 8 + 4 + 4;

/// CRC-32C "masked" as TFRecord wants: rotated and offset, because a CRC of data
/// that itself contains CRCs is weak (the format's own reasoning, kept for
/// compatibility).
pub fn masked_crc(bytes: &[u8]) -> u32 {
    let crc = crc32c::crc32c(bytes);
    crc.rotate_right(15).wrapping_add(0xa282_ead8)
}

/// Appends one record holding `payload`.
pub fn write_record(out: &mut impl Write, payload: &[u8]) -> io::Result<()> {
    let length = (payload.len() as u64).to_le_bytes();
    out.write_all(&length)?;
    out.write_all(&masked_crc(&length).to_le_bytes())?;
    out.write_all(payload)?;
    out.write_all(&masked_crc(payload).to_le_bytes())
}

/// What [`read_records`] found in a file's bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Records<'a> {
    /// The payloads of the complete records, in order.
    pub payloads: Vec<&'a [u8]>,
    /// Bytes after the last complete record: a record cut short by an interrupted
    /// write (0 for a file that ends cleanly).
    pub torn_tail: usize,
}

/// The records of `bytes`, up to the last complete one. A record whose checksum does
/// not match is not a torn end but damage, and is an error naming its offset.
pub fn read_records(bytes: &[u8]) -> Result<Records<'_>, String> {
    let mut payloads = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let rest = &bytes[at..];
        if rest.len() < 12 {
            break;
        }
        let (length_bytes, length_crc) = (&rest[..8], u32_at(rest, 8));
        if masked_crc(length_bytes) != length_crc {
            return Err(format!("the record at byte {at} has a damaged length (checksum mismatch)"));
        }
        let length = u64::from_le_bytes(length_bytes.try_into().map_err(|_| "short length")?);
        let Some(end) = usize::try_from(length).ok().and_then(|n| n.checked_add(OVERHEAD)) else {
            return Err(format!("the record at byte {at} claims {length} bytes"));
        };
        if rest.len() < end {
            break;
        }
        let payload = &rest[12..end - 4];
        if masked_crc(payload) != u32_at(rest, end - 4) {
            return Err(format!("the record at byte {at} is damaged (checksum mismatch)"));
        }
        payloads.push(payload);
        at += end;
    }
    Ok(Records { payloads, torn_tail: bytes.len() - at })
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masked_crc_matches_the_tfrecord_reference_value() {
        // CRC-32C("123456789") is 0xE3069283, the check value of the Castagnoli
        // polynomial.
        assert_eq!(crc32c::crc32c(b"123456789"), 0xE306_9283);
        // Every event file TensorFlow or PyTorch writes starts with the 24-byte version
        // event, framed as 18 00 00 00 00 00 00 00, then these four bytes.
        assert_eq!(masked_crc(&24u64.to_le_bytes()).to_le_bytes(), [0xa3, 0x7f, 0x4b, 0x22]);
    }

    #[test]
    fn records_round_trip_and_a_cut_file_reads_up_to_its_last_whole_record() {
        let payloads: [&[u8]; 3] = [b"first", b"", b"the third record"];
        let mut file = Vec::new();
        for p in payloads {
            write_record(&mut file, p).unwrap();
        }
        let all = read_records(&file).unwrap();
        assert_eq!(all.payloads, payloads);
        assert_eq!(all.torn_tail, 0);
        let ends = [OVERHEAD + 5, 2 * OVERHEAD + 5, file.len()];
        for cut in 0..=file.len() {
            let read = read_records(&file[..cut]).unwrap();
            let whole = ends.iter().filter(|&&end| end <= cut).count();
            assert_eq!(read.payloads, payloads[..whole], "cut at {cut}");
            assert_eq!(read.torn_tail, cut - if whole == 0 { 0 } else { ends[whole - 1] });
        }
    }

    #[test]
    fn a_flipped_bit_in_a_whole_record_is_damage_not_a_torn_end() {
        let mut file = Vec::new();
        write_record(&mut file, b"payload").unwrap();
        for at in [0, 9, 14] {
            let mut damaged = file.clone();
            damaged[at] ^= 0x10;
            let error = read_records(&damaged).unwrap_err();
            assert!(error.contains("byte 0"), "{error}");
        }
    }
}
