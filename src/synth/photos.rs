//! Real photographs for backgrounds, built into the binary (public domain / CC0; see
//! `assets/backgrounds/LICENSE.md`), decoded once on first use.

use std::sync::OnceLock;

use image::RgbImage;

const SOURCES: [&[u8]; 8] = [
    include_bytes!("../../assets/backgrounds/astronaut.jpg"),
    include_bytes!("../../assets/backgrounds/coffee.jpg"),
    include_bytes!("../../assets/backgrounds/chelsea.jpg"),
    include_bytes!("../../assets/backgrounds/rocket.jpg"),
    include_bytes!("../../assets/backgrounds/hubble_deep_field.jpg"),
    include_bytes!("../../assets/backgrounds/brick.jpg"),
    include_bytes!("../../assets/backgrounds/grass.jpg"),
    include_bytes!("../../assets/backgrounds/gravel.jpg"),
];

/// The decoded photographs (grey ones expanded to RGB), in a fixed order.
pub fn all() -> &'static [RgbImage] {
    static PHOTOS: OnceLock<Vec<RgbImage>> = OnceLock::new();
    PHOTOS.get_or_init(|| {
        SOURCES
            .iter()
            .filter_map(|bytes| image::load_from_memory_with_format(bytes, image::ImageFormat::Jpeg).ok())
            .map(|img| img.to_rgb8())
            .collect()
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_photo_decodes() {
        let photos = super::all();
        assert_eq!(photos.len(), super::SOURCES.len());
        assert!(photos.iter().all(|p| p.width() >= 300 && p.height() >= 300));
    }
}
