pub const API_VERSION: u32 = 1;
