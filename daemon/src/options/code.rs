//! Well-known option codes in the DHCP space, used by the codec, the engine
//! and the catalogue.

pub const PAD: u8 = 0;
pub const SUBNET_MASK: u8 = 1;
pub const ROUTERS: u8 = 3;
pub const DOMAIN_NAME_SERVERS: u8 = 6;
pub const HOST_NAME: u8 = 12;
pub const DOMAIN_NAME: u8 = 15;
pub const BROADCAST_ADDRESS: u8 = 28;
pub const VENDOR_ENCAPSULATED: u8 = 43;
pub const REQUESTED_IP: u8 = 50;
pub const LEASE_TIME: u8 = 51;
pub const OVERLOAD: u8 = 52;
pub const MESSAGE_TYPE: u8 = 53;
pub const SERVER_ID: u8 = 54;
pub const PARAMETER_REQUEST_LIST: u8 = 55;
pub const MESSAGE: u8 = 56;
pub const MAX_MESSAGE_SIZE: u8 = 57;
pub const RENEWAL_TIME: u8 = 58;
pub const REBINDING_TIME: u8 = 59;
pub const VENDOR_CLASS: u8 = 60;
pub const CLIENT_ID: u8 = 61;
pub const TFTP_SERVER_NAME: u8 = 66;
pub const BOOTFILE_NAME: u8 = 67;
pub const CLIENT_FQDN: u8 = 81;
pub const RELAY_AGENT_INFO: u8 = 82;
pub const SUBNET_SELECTION: u8 = 118;
pub const END: u8 = 255;
