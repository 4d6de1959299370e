//! Extraction options.

/// Extraction options.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Keep prose blocks found outside the main container (see the module doc).
    pub union_outside_prose: bool,
    /// How far above the main container (in tree levels) the common ancestor of an outside
    /// prose block and the container may be: teasers of other articles live far away in the
    /// tree, the rest of a split article close by.
    pub union_max_levels: u32,
    /// Share of the page's prose in the main container above which `union_max_levels` applies;
    /// below it, prose blocks anywhere join.
    pub union_dominant_share: f32,
    /// Keep table cells (data tables in articles); layout tables are kept either way when they
    /// are the content.
    pub include_tables: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            union_outside_prose: true,
            union_max_levels: 2,
            union_dominant_share: 0.35,
            include_tables: true,
        }
    }
}
