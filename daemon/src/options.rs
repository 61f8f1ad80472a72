//! The DHCP option catalogue. OWNED BY THE CONFIG HELPER.
