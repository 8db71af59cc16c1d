//! Turning an upload into stored styles, as Mastodon's media processors do: what kind of
//! file it is (from its bytes, not the client's word), the `original` and `small` styles
//! of images scaled to Mastodon's pixel budgets, `meta`, and a blurhash. Re-encoding from
//! pixels drops EXIF and every other embedded metadata; the EXIF orientation is applied
//! first so the picture stays upright. Video and audio are described by ffprobe and get a
//! preview frame from ffmpeg when those tools are installed.

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader};
use serde_json::{Value, json};

use crate::core::error::{Error, Result};
use crate::model::media::MediaType;

pub const IMAGE_SIZE_LIMIT: usize = 16 * 1024 * 1024;
pub const VIDEO_SIZE_LIMIT: usize = 99 * 1024 * 1024;
/// Images with more pixels than this are refused (`image_matrix_limit`).
pub const IMAGE_MATRIX_LIMIT: u64 = 33_177_600;
/// Pixel budgets of the stored styles: 3840×2160 and 640×360.
const ORIGINAL_PIXELS: u64 = 8_294_400;
const SMALL_PIXELS: u64 = 230_400;

/// What an upload is, from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sniffed {
    Image(ImageFormat),
    Video(&'static str, &'static str),
    Audio(&'static str, &'static str),
}

impl Sniffed {
    pub fn media_type(self) -> MediaType {
        match self {
            Sniffed::Image(_) => MediaType::Image,
            Sniffed::Video(..) => MediaType::Video,
            Sniffed::Audio(..) => MediaType::Audio,
        }
    }
    /// The MIME type and file extension the stored original gets.
    pub fn mime_and_extension(self) -> (&'static str, &'static str) {
        match self {
            Sniffed::Image(ImageFormat::Png) => ("image/png", "png"),
            Sniffed::Image(ImageFormat::Gif) => ("image/gif", "gif"),
            Sniffed::Image(ImageFormat::WebP) => ("image/webp", "webp"),
            Sniffed::Image(_) => ("image/jpeg", "jpeg"),
            Sniffed::Video(mime, ext) | Sniffed::Audio(mime, ext) => (mime, ext),
        }
    }
}

/// Recognizes the formats Mastodon accepts and this build can handle. Containers that hold
/// either sound or pictures (MP4, WebM, Ogg) count as audio when the client says `audio/…`.
pub fn sniff(bytes: &[u8], declared_type: &str) -> Option<Sniffed> {
    let audio_declared = declared_type.starts_with("audio/");
    let at = |offset: usize, magic: &[u8]| bytes.get(offset..offset + magic.len()) == Some(magic);
    if let Ok(format) = image::guess_format(bytes)
        && matches!(format, ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::Gif | ImageFormat::WebP)
    {
        return Some(Sniffed::Image(format));
    }
    if at(4, b"ftyp") {
        let brand = bytes.get(8..12).unwrap_or_default();
        return Some(if brand == b"qt  " {
            Sniffed::Video("video/quicktime", "mov")
        } else if brand.starts_with(b"M4A") || audio_declared {
            Sniffed::Audio("audio/mp4", "m4a")
        } else if brand.starts_with(b"3gp") {
            Sniffed::Audio("audio/3gpp", "3gp")
        } else {
            Sniffed::Video("video/mp4", "mp4")
        });
    }
    if at(0, &[0x1a, 0x45, 0xdf, 0xa3]) {
        return Some(if audio_declared {
            Sniffed::Audio("audio/webm", "webm")
        } else {
            Sniffed::Video("video/webm", "webm")
        });
    }
    if at(0, b"OggS") {
        let video = declared_type.starts_with("video/");
        return Some(if video { Sniffed::Video("video/ogg", "ogv") } else { Sniffed::Audio("audio/ogg", "ogg") });
    }
    if at(0, b"RIFF") && at(8, b"WAVE") {
        return Some(Sniffed::Audio("audio/wave", "wav"));
    }
    if at(0, b"fLaC") {
        return Some(Sniffed::Audio("audio/flac", "flac"));
    }
    if at(0, b"ID3") || (bytes.len() > 1 && bytes[0] == 0xff && bytes[1] & 0xe0 == 0xe0) {
        return Some(Sniffed::Audio("audio/mpeg", "mp3"));
    }
    None
}

/// One stored style of a processed file.
pub struct Style {
    pub bytes: Vec<u8>,
    pub content_type: &'static str,
    pub extension: &'static str,
}

/// A processed still image.
pub struct ProcessedImage {
    pub original: Style,
    pub small: Style,
    pub meta: Value,
    pub blurhash: String,
}

fn dimensions_meta(width: u32, height: u32) -> Value {
    json!({
        "width": width,
        "height": height,
        "size": format!("{width}x{height}"),
        "aspect": f64::from(width) / f64::from(height.max(1)),
    })
}

/// The size that fits `pixels` while keeping the aspect ratio (never enlarged).
fn fit_pixels(width: u32, height: u32, pixels: u64) -> (u32, u32) {
    let area = u64::from(width) * u64::from(height);
    if area <= pixels {
        return (width, height);
    }
    let scale = (pixels as f64 / area as f64).sqrt();
    (((f64::from(width) * scale) as u32).max(1), ((f64::from(height) * scale) as u32).max(1))
}

fn unreadable() -> Error {
    Error::Unprocessable("File type of uploaded media could not be verified".into())
}

/// Decodes an image with the EXIF orientation applied, refusing decompression bombs.
pub fn decode(bytes: &[u8], format: ImageFormat) -> Result<DynamicImage> {
    let (width, height) =
        ImageReader::with_format(Cursor::new(bytes), format).into_dimensions().map_err(|_| unreadable())?;
    if u64::from(width) * u64::from(height) > IMAGE_MATRIX_LIMIT {
        return Err(Error::Unprocessable(format!("{width}x{height} images are not supported")));
    }
    let mut decoder = ImageReader::with_format(Cursor::new(bytes), format).into_decoder().map_err(|_| unreadable())?;
    let orientation = decoder.orientation().unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut image = DynamicImage::from_decoder(decoder).map_err(|_| unreadable())?;
    image.apply_orientation(orientation);
    Ok(image)
}

/// Encodes in the upload's own format where we can write it; GIF stills become PNG, as
/// Mastodon converts them.
pub fn encode(image: &DynamicImage, format: ImageFormat) -> Result<Style> {
    let mut out = Cursor::new(Vec::new());
    let style = match format {
        ImageFormat::Png | ImageFormat::Gif => image.write_to(&mut out, ImageFormat::Png).map(|_| ("image/png", "png")),
        ImageFormat::WebP => image.write_to(&mut out, ImageFormat::WebP).map(|_| ("image/webp", "webp")),
        _ => {
            let rgb = DynamicImage::ImageRgb8(image.to_rgb8());
            let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90);
            rgb.write_with_encoder(encoder).map(|_| ("image/jpeg", "jpeg"))
        }
    };
    let (content_type, extension) = style.map_err(|e| Error::internal(format!("encoding an image: {e}")))?;
    Ok(Style { bytes: out.into_inner(), content_type, extension })
}

pub fn blurhash(image: &DynamicImage) -> Result<String> {
    // A blurhash only needs a few pixels; hashing a thumbnail keeps it cheap.
    let tiny = image.thumbnail(64, 64).to_rgba8();
    blurhash::encode(4, 4, tiny.width(), tiny.height(), tiny.as_raw())
        .map_err(|e| Error::internal(format!("blurhash: {e}")))
}

/// The `original` (at most 3840×2160 worth of pixels) and `small` (640×360) styles.
pub fn image(bytes: &[u8], format: ImageFormat) -> Result<ProcessedImage> {
    let decoded = decode(bytes, format)?;
    let (ow, oh) = fit_pixels(decoded.width(), decoded.height(), ORIGINAL_PIXELS);
    let original_image =
        if (ow, oh) == (decoded.width(), decoded.height()) { decoded } else { decoded.thumbnail_exact(ow, oh) };
    let (sw, sh) = fit_pixels(ow, oh, SMALL_PIXELS);
    let small_image = original_image.thumbnail_exact(sw, sh);
    Ok(ProcessedImage {
        original: encode(&original_image, format)?,
        meta: json!({ "original": dimensions_meta(ow, oh), "small": dimensions_meta(sw, sh) }),
        blurhash: blurhash(&small_image)?,
        small: encode(&small_image, format)?,
    })
}

/// An avatar: the centre square, at most 400×400 (never enlarged).
pub fn avatar(bytes: &[u8]) -> Result<Style> {
    let (decoded, format) = decode_profile_image(bytes, "Avatar")?;
    let side = decoded.width().min(decoded.height());
    let square = decoded.crop_imm((decoded.width() - side) / 2, (decoded.height() - side) / 2, side, side);
    let side = side.min(400);
    encode(&square.thumbnail_exact(side, side), format)
}

/// A header: scaled to fit 1500×500 worth of pixels, not cropped.
pub fn header(bytes: &[u8]) -> Result<Style> {
    let (decoded, format) = decode_profile_image(bytes, "Header")?;
    let (w, h) = fit_pixels(decoded.width(), decoded.height(), 750_000);
    let scaled = if (w, h) == (decoded.width(), decoded.height()) { decoded } else { decoded.thumbnail_exact(w, h) };
    encode(&scaled, format)
}

fn decode_profile_image(bytes: &[u8], label: &str) -> Result<(DynamicImage, ImageFormat)> {
    match sniff(bytes, "") {
        Some(Sniffed::Image(format)) => Ok((decode(bytes, format)?, format)),
        _ => Err(Error::validation(format!("{label} content type is invalid, {label} is invalid"))),
    }
}

/// What ffprobe and ffmpeg tell about a video or audio file.
pub struct AvInfo {
    pub meta: Value,
    pub preview: Option<(Style, String)>,
}

/// Whether a GIF has more than one frame (Mastodon turns those into `gifv` videos).
pub fn is_animated_gif(bytes: &[u8]) -> bool {
    use image::AnimationDecoder;
    image::codecs::gif::GifDecoder::new(Cursor::new(bytes)).is_ok_and(|d| d.into_frames().take(2).count() > 1)
}

/// Whether ffmpeg can be run (it is optional; see the README).
pub async fn ffmpeg_available(ffmpeg: &str) -> bool {
    tokio::process::Command::new(ffmpeg).arg("-version").output().await.is_ok_and(|o| o.status.success())
}

/// An animated GIF as a silent H.264 MP4 (Mastodon's gifv conversion): `to` is written.
pub async fn gif_to_mp4(ffmpeg: &str, from: &std::path::Path, to: &std::path::Path) -> Result<()> {
    let status = tokio::process::Command::new(ffmpeg)
        .args(["-v", "error", "-y", "-i"])
        .arg(from)
        .args(["-movflags", "faststart", "-pix_fmt", "yuv420p", "-vf", "scale=trunc(iw/2)*2:trunc(ih/2)*2", "-an"])
        .args(["-c:v", "libx264", "-f", "mp4"])
        .arg(to)
        .status()
        .await
        .map_err(|e| Error::internal(format!("ffmpeg: {e}")))?;
    if !status.success() {
        return Err(unreadable());
    }
    Ok(())
}

/// Runs ffprobe (and ffmpeg for a video's first frame) on `path`. `None` when the tools are
/// not installed, so the file is kept with empty metadata.
pub async fn audio_video(ffprobe: &str, ffmpeg: &str, path: &std::path::Path, video: bool) -> Result<Option<AvInfo>> {
    let probe = tokio::process::Command::new(ffprobe)
        .args(["-v", "error", "-print_format", "json", "-show_format", "-show_streams"])
        .arg(path)
        .output()
        .await;
    let output = match probe {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::internal(format!("ffprobe: {e}"))),
        Ok(o) if !o.status.success() => return Err(unreadable()),
        Ok(o) => o,
    };
    let probed: Value = serde_json::from_slice(&output.stdout).map_err(|_| unreadable())?;
    let mut meta = av_meta(&probed);
    let has_video = probed["streams"].as_array().is_some_and(|s| s.iter().any(|s| s["codec_type"] == "video"));
    if !video || !has_video {
        return Ok(Some(AvInfo { meta, preview: None }));
    }
    let frame = path.with_extension("preview.png");
    let status = tokio::process::Command::new(ffmpeg)
        .args(["-v", "error", "-y", "-i"])
        .arg(path)
        .args(["-frames:v", "1", "-f", "image2"])
        .arg(&frame)
        .status()
        .await
        .map_err(|e| Error::internal(format!("ffmpeg: {e}")))?;
    if !status.success() {
        return Ok(Some(AvInfo { meta, preview: None }));
    }
    let frame_bytes = tokio::fs::read(&frame).await.map_err(|e| Error::internal(format!("ffmpeg frame: {e}")))?;
    let _ = tokio::fs::remove_file(&frame).await;
    let preview = tokio::task::spawn_blocking(move || -> Result<(Style, String, u32, u32)> {
        let decoded = decode(&frame_bytes, ImageFormat::Png)?;
        let (sw, sh) = fit_pixels(decoded.width(), decoded.height(), SMALL_PIXELS);
        let small = decoded.thumbnail_exact(sw, sh);
        Ok((encode(&small, ImageFormat::Png)?, blurhash(&small)?, sw, sh))
    })
    .await
    .map_err(|e| Error::internal(format!("preview frame: {e}")))??;
    let (style, hash, sw, sh) = preview;
    meta["small"] = dimensions_meta(sw, sh);
    Ok(Some(AvInfo { meta, preview: Some((style, hash)) }))
}

/// Mastodon's `meta` for video and audio from ffprobe's JSON.
fn av_meta(probed: &Value) -> Value {
    let format = &probed["format"];
    let duration: Option<f64> = format["duration"].as_str().and_then(|d| d.parse().ok());
    let bitrate: Option<i64> = format["bit_rate"].as_str().and_then(|b| b.parse().ok());
    let streams = probed["streams"].as_array().cloned().unwrap_or_default();
    let mut original = json!({});
    if let Some(video) = streams.iter().find(|s| s["codec_type"] == "video") {
        let (w, h) = (video["width"].as_u64().unwrap_or(0) as u32, video["height"].as_u64().unwrap_or(0) as u32);
        original = dimensions_meta(w, h);
        if let Some(rate) = video["avg_frame_rate"].as_str().or(video["r_frame_rate"].as_str()) {
            original["frame_rate"] = json!(rate);
        }
    }
    if let Some(d) = duration {
        original["duration"] = json!(d);
    }
    if let Some(b) = bitrate {
        original["bitrate"] = json!(b);
    }
    let mut meta = json!({ "original": original });
    if let Some(d) = duration {
        meta["length"] = json!(format_length(d));
        meta["duration"] = json!(d);
    }
    if let Some(audio) = streams.iter().find(|s| s["codec_type"] == "audio") {
        meta["audio_encode"] = json!(audio["codec_long_name"].as_str().unwrap_or_default());
        meta["audio_bitrate"] =
            json!(format!("{}k", audio["bit_rate"].as_str().and_then(|b| b.parse::<i64>().ok()).unwrap_or(0) / 1000));
        meta["audio_channels"] = json!(audio["channel_layout"].as_str().unwrap_or("mono"));
    }
    meta
}

/// `0:01:05.50` like Mastodon's `length`.
fn format_length(seconds: f64) -> String {
    let whole = seconds.trunc() as u64;
    let hundredths = ((seconds.fract() * 100.0).round() as u64).min(99);
    format!("{}:{:02}:{:02}.{hundredths:02}", whole / 3600, whole / 60 % 60, whole % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fitting_keeps_the_aspect_and_never_enlarges() {
        assert_eq!(fit_pixels(640, 360, SMALL_PIXELS), (640, 360));
        assert_eq!(fit_pixels(100, 50, SMALL_PIXELS), (100, 50));
        let (w, h) = fit_pixels(4000, 3000, SMALL_PIXELS);
        assert!(u64::from(w) * u64::from(h) <= SMALL_PIXELS);
        assert_eq!((w, h), (554, 415));
    }

    #[test]
    fn sniffing_trusts_bytes_over_the_declared_type() {
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n....", "video/mp4"), Some(Sniffed::Image(ImageFormat::Png)));
        assert_eq!(sniff(b"RIFF\0\0\0\0WAVEfmt ", "image/png").map(Sniffed::media_type), Some(MediaType::Audio));
        assert_eq!(sniff(b"\0\0\0\x18ftypisom", "video/mp4").map(Sniffed::media_type), Some(MediaType::Video));
        assert_eq!(sniff(b"\0\0\0\x18ftypisom", "audio/mp4").map(Sniffed::media_type), Some(MediaType::Audio));
        assert_eq!(sniff(b"%PDF-1.7", "image/png"), None);
        assert_eq!(sniff(b"BM\0\0", "image/bmp"), None);
    }

    #[test]
    fn lengths_read_like_mastodons() {
        assert_eq!(format_length(65.5), "0:01:05.50");
        assert_eq!(format_length(3725.0), "1:02:05.00");
    }
}
