/**
 * The OMA core objects 0-7 (OMA TS LwM2M Core 1.1, Appendix E, and the OMNA registry).
 *
 * Versions: Security, Server and Device are the LwM2M 1.1 versions (object version 1.1), as asked by LwM2M 1.1
 * clients; their 1.2 versions add resources (e.g. Security 18-30, Server 24-27) that a DDF can bring in. The other
 * objects are the newest registry versions usable by LwM2M 1.0/1.1 clients: Access Control 1.1, Connectivity
 * Monitoring 1.3, Firmware Update 1.2, Location 1.0, Connectivity Statistics 1.0.
 *
 * Resources of the Security object have no operations: only a Bootstrap-Server (or a smartcard) may write them and no
 * LwM2M Server may access them (Core 1.1 E.1).
 */
import { ObjectDef } from '../types';
import { defineObject, MAND, MULTI, MULTI_MAND, r } from './define';

export const SECURITY = defineObject({
  id: 0, name: 'LWM2M Security', version: '1.1', lwm2mVersion: '1.1', multiple: true, mandatory: true,
  description: 'Keying material the client uses to reach one LwM2M Server or Bootstrap-Server.',
}, [
  r(0, 'LWM2M Server URI', '', 'string', 'URI of the LwM2M Server or Bootstrap-Server (coap://, coaps://...).', { ...MAND, range: '0..255' }),
  r(1, 'Bootstrap-Server', '', 'boolean', 'True when this instance is for a Bootstrap-Server.', MAND),
  r(2, 'Security Mode', '', 'integer', '0 PSK, 1 Raw Public Key, 2 Certificate, 3 NoSec, 4 Certificate with EST.', { ...MAND, range: '0..4' }),
  r(3, 'Public Key or Identity', '', 'opaque', 'Client certificate, raw public key or PSK identity.', MAND),
  r(4, 'Server Public Key', '', 'opaque', 'Server certificate, raw public key or trust anchor.', MAND),
  r(5, 'Secret Key', '', 'opaque', 'Pre-shared key or private key of the client.', MAND),
  r(6, 'SMS Security Mode', '', 'integer', 'Security of the SMS binding: 1 DTLS, 2 secure packet, 3 NoSec, 204-255 proprietary.', { range: '0..255' }),
  r(7, 'SMS Binding Key Parameters', '', 'opaque', 'KIc, KID, SPI and TAR of the SMS binding.', { range: '6' }),
  r(8, 'SMS Binding Secret Key(s)', '', 'opaque', 'Key(s) of the SMS binding.', { range: '16,32,48' }),
  r(9, 'LwM2M Server SMS Number', '', 'string', 'MSISDN of the server for the SMS binding.'),
  r(10, 'Short Server ID', '', 'integer', 'Short id of the server; required unless this is a Bootstrap-Server instance.', { range: '1..65534' }),
  r(11, 'Client Hold Off Time', '', 'integer', 'Seconds to wait before a client-initiated bootstrap.', { units: 's' }),
  r(12, 'Bootstrap-Server Account Timeout', '', 'integer', 'Seconds after which the client purges the Bootstrap-Server account; 0 keeps it.', { units: 's' }),
  r(13, 'Matching Type', '', 'unsigned', 'How Server Public Key is matched: 0 exact, 1 SHA-256, 2 SHA-384, 3 SHA-512.', { range: '0..3' }),
  r(14, 'SNI', '', 'string', 'Server Name Indication to use in the (D)TLS handshake.'),
  r(15, 'Certificate Usage', '', 'unsigned', 'Certificate usage of Server Public Key (RFC 6698): 0 CA, 1 service, 2 trust anchor, 3 domain-issued.', { range: '0..3' }),
  r(16, 'DTLS/TLS Ciphersuite', '', 'unsigned', 'Ciphersuites to propose, as IANA TLS values (0xC0A8 = 49320).', MULTI),
  r(17, 'OSCORE Security Mode', '', 'objlnk', 'Link to an OSCORE object (21) instance.'),
]);

export const SERVER = defineObject({
  id: 1, name: 'LwM2M Server', version: '1.1', lwm2mVersion: '1.1', multiple: true, mandatory: true,
  description: 'Settings of the client\'s account on one LwM2M Server (not for Bootstrap-Servers).',
}, [
  r(0, 'Short Server ID', 'R', 'integer', 'Short id of the server, linking it to its Security instance.', { ...MAND, range: '1..65534' }),
  r(1, 'Lifetime', 'RW', 'integer', 'Registration lifetime in seconds.', { ...MAND, units: 's' }),
  r(2, 'Default Minimum Period', 'RW', 'integer', 'Default pmin of observations, in seconds (0 when absent).', { units: 's' }),
  r(3, 'Default Maximum Period', 'RW', 'integer', 'Default pmax of observations, in seconds.', { units: 's' }),
  r(4, 'Disable', 'E', 'none', 'Deregister and stay silent towards this server for Disable Timeout.'),
  r(5, 'Disable Timeout', 'RW', 'integer', 'How long Disable lasts, in seconds (default 86400).', { units: 's' }),
  r(6, 'Notification Storing When Disabled or Offline', 'RW', 'boolean', 'Store notifications while disabled or offline.', MAND),
  r(7, 'Binding', 'RW', 'string', 'Transport bindings the client uses with this server (U, T, S, N, Q).', MAND),
  r(8, 'Registration Update Trigger', 'E', 'none', 'Makes the client send a registration Update.', MAND),
  r(9, 'Bootstrap-Request Trigger', 'E', 'none', 'Makes the client start a client-initiated bootstrap.'),
  r(10, 'APN Link', 'RW', 'objlnk', 'Link to the APN connection profile (object 11) for this server.'),
  r(11, 'TLS-DTLS Alert Code', 'R', 'unsigned', 'Last (D)TLS alert received from the server.', { range: '0..255' }),
  r(12, 'Last Bootstrapped', 'R', 'time', 'When a Bootstrap-Server last updated this account.'),
  r(13, 'Registration Priority Order', 'R', 'unsigned', 'Servers are registered to in increasing order of this value.'),
  r(14, 'Initial Registration Delay Timer', 'RW', 'unsigned', 'Delay before registering, after the previous server in the order.', { units: 's' }),
  r(15, 'Registration Failure Block', 'R', 'boolean', 'When true, a failed registration here blocks registering to the next servers.'),
  r(16, 'Bootstrap on Registration Failure', 'R', 'boolean', 'When true, a failed registration here starts a bootstrap.'),
  r(17, 'Communication Retry Count', 'RW', 'unsigned', 'Attempts in one communication sequence.'),
  r(18, 'Communication Retry Timer', 'RW', 'unsigned', 'Base delay between attempts of a sequence (doubles each time).', { units: 's' }),
  r(19, 'Communication Sequence Delay Timer', 'RW', 'unsigned', 'Delay between communication sequences.', { units: 's' }),
  r(20, 'Communication Sequence Retry Count', 'RW', 'unsigned', 'Sequences before a registration attempt counts as failed.'),
  r(21, 'Trigger', 'RW', 'boolean', 'Whether the client is reachable over SMS for triggers.'),
  r(22, 'Preferred Transport', 'RW', 'string', 'Transport the client should use first when it has several.'),
  r(23, 'Mute Send', 'RW', 'boolean', 'When true, the client must not use the Send operation towards this server.'),
]);

export const ACCESS_CONTROL = defineObject({
  id: 2, name: 'LwM2M Access Control', version: '1.1', lwm2mVersion: '1.0', multiple: true, mandatory: false,
  description: 'Access rights of LwM2M Servers to one object or object instance.',
}, [
  r(0, 'Object ID', 'R', 'integer', 'Object the access rights apply to.', { ...MAND, range: '1..65534' }),
  r(1, 'Object Instance ID', 'R', 'integer', 'Instance the rights apply to; 65535 for the Create right on the object.', { ...MAND, range: '0..65535' }),
  r(2, 'ACL', 'RW', 'integer', 'Rights per Short Server ID (instance id): bit 0 Read/Observe, 1 Write, 2 Execute, 3 Delete, 4 Create.', { ...MULTI, range: '0..31' }),
  r(3, 'Access Control Owner', 'RW', 'integer', 'Short Server ID of the server that manages this instance (65535: bootstrap).', { ...MAND, range: '0..65535' }),
]);

export const DEVICE = defineObject({
  id: 3, name: 'Device', version: '1.1', lwm2mVersion: '1.1', multiple: false, mandatory: true,
  description: 'Information about the device (maker, model, versions, power, time) and reboot / factory reset.',
}, [
  r(0, 'Manufacturer', 'R', 'string', 'Manufacturer name.'),
  r(1, 'Model Number', 'R', 'string', 'Model identifier.'),
  r(2, 'Serial Number', 'R', 'string', 'Serial number.'),
  r(3, 'Firmware Version', 'R', 'string', 'Current firmware version.'),
  r(4, 'Reboot', 'E', 'none', 'Reboots the device.', MAND),
  r(5, 'Factory Reset', 'E', 'none', 'Resets the device to its factory state (it will bootstrap again).'),
  r(6, 'Available Power Sources', 'R', 'integer', '0 DC, 1 internal battery, 2 external battery, 3 fuel cell, 4 PoE, 5 USB, 6 AC mains, 7 solar.', { ...MULTI, range: '0..7' }),
  r(7, 'Power Source Voltage', 'R', 'integer', 'Voltage of each power source, in mV (same instance ids as resource 6).', MULTI),
  r(8, 'Power Source Current', 'R', 'integer', 'Current of each power source, in mA (same instance ids as resource 6).', MULTI),
  r(9, 'Battery Level', 'R', 'integer', 'Internal battery level in percent.', { range: '0..100', units: '%' }),
  r(10, 'Memory Free', 'R', 'integer', 'Free storage, in kB.'),
  r(11, 'Error Code', 'R', 'integer', '0 none, 1 low battery, 2 external power off, 3 GPS failure, 4 low signal, 5 out of memory, 6 SMS failure, 7 IP connectivity failure, 8 peripheral malfunction.', { ...MULTI_MAND, range: '0..8' }),
  r(12, 'Reset Error Code', 'E', 'none', 'Clears the error codes.'),
  r(13, 'Current Time', 'RW', 'time', 'Current time of the device.'),
  r(14, 'UTC Offset', 'RW', 'string', 'UTC offset in effect, ISO 8601 (e.g. +02:00).'),
  r(15, 'Timezone', 'RW', 'string', 'IANA time zone (e.g. Europe/Paris).'),
  r(16, 'Supported Binding and Modes', 'R', 'string', 'Bindings and modes the client supports (e.g. UQ).', MAND),
  r(17, 'Device Type', 'R', 'string', 'Type of device (manufacturer specific).'),
  r(18, 'Hardware Version', 'R', 'string', 'Hardware version.'),
  r(19, 'Software Version', 'R', 'string', 'Software version.'),
  r(20, 'Battery Status', 'R', 'integer', '0 normal, 1 charging, 2 charge complete, 3 damaged, 4 low, 5 not installed, 6 unknown.', { range: '0..6' }),
  r(21, 'Memory Total', 'R', 'integer', 'Total storage, in kB.'),
  r(22, 'ExtDevInfo', 'R', 'objlnk', 'Links to objects describing external devices (e.g. the host device).', MULTI),
]);

export const CONNECTIVITY_MONITORING = defineObject({
  id: 4, name: 'Connectivity Monitoring', version: '1.3', lwm2mVersion: '1.1', multiple: false, mandatory: false,
  description: 'Network bearer, signal strength, addresses and cell information.',
}, [
  r(0, 'Network Bearer', 'R', 'integer', 'Current bearer: 0 GSM, 1 TD-SCDMA, 2 WCDMA, 3 CDMA2000, 4 WiMAX, 5 LTE-TDD, 6 LTE-FDD, 7 NB-IoT, 8 5G-NR TDD, 9 5G-NR FDD (0-20 cellular), 21 WLAN, 22 Bluetooth, 23 IEEE 802.15.4 (21-40 wireless), 41 Ethernet, 42 DSL, 43 PLC (41-50 wireline).', { ...MAND, range: '0..50' }),
  r(1, 'Available Network Bearer', 'R', 'integer', 'Bearers currently available (same codes as Network Bearer).', { ...MULTI_MAND, range: '0..50' }),
  r(2, 'Radio Signal Strength', 'R', 'integer', 'Average received signal strength (RSSI, RSCP or RSRP by bearer).', { ...MAND, units: 'dBm' }),
  r(3, 'Link Quality', 'R', 'integer', 'Received link quality (e.g. RSRQ for LTE).'),
  r(4, 'IP Addresses', 'R', 'string', 'IP addresses of the interface.', MULTI_MAND),
  r(5, 'Router IP Addresses', 'R', 'string', 'Next-hop router addresses.', MULTI),
  r(6, 'Link Utilization', 'R', 'integer', 'Average link utilisation in percent.', { range: '0..100', units: '/100' }),
  r(7, 'APN', 'R', 'string', 'Access point names in use (cellular).', MULTI),
  r(8, 'Cell ID', 'R', 'integer', 'Serving cell id (cellular).'),
  r(9, 'SMNC', 'R', 'integer', 'Serving mobile network code.', { range: '0..999' }),
  r(10, 'SMCC', 'R', 'integer', 'Serving mobile country code.', { range: '0..999' }),
  r(11, 'SignalSNR', 'R', 'integer', 'Signal to interference plus noise ratio.', { units: 'dB' }),
  r(12, 'LAC', 'R', 'integer', 'Location (or tracking) area code.'),
  r(13, 'Coverage Enhancement Level', 'R', 'integer', '0 no coverage enhancement, 1-4 coverage enhancement level 0-3 (3GPP TS 36.331).', { range: '0..4' }),
]);

export const FIRMWARE_UPDATE = defineObject({
  id: 5, name: 'Firmware Update', version: '1.2', lwm2mVersion: '1.1', multiple: false, mandatory: false,
  description: 'Firmware delivery (pushed or pulled from a URI), update and result.',
}, [
  r(0, 'Package', 'W', 'opaque', 'The firmware image, pushed by the server.', MAND),
  r(1, 'Package URI', 'RW', 'string', 'URI the client downloads the firmware from; empty cancels.', { ...MAND, range: '0..255' }),
  r(2, 'Update', 'E', 'none', 'Installs the downloaded firmware.', MAND),
  r(3, 'State', 'R', 'integer', '0 idle, 1 downloading, 2 downloaded, 3 updating.', { ...MAND, range: '0..3' }),
  r(5, 'Update Result', 'R', 'integer', '0 initial, 1 success, 2 no storage, 3 out of RAM, 4 connection lost, 5 integrity check failed, 6 unsupported package, 7 invalid URI, 8 update failed, 9 unsupported protocol, 10 cancelled, 11 deferred.', { ...MAND, range: '0..11' }),
  r(6, 'PkgName', 'R', 'string', 'Name of the firmware package.', { range: '0..255' }),
  r(7, 'PkgVersion', 'R', 'string', 'Version of the firmware package.', { range: '0..255' }),
  r(8, 'Firmware Update Protocol Support', 'R', 'integer', 'Pull protocols: 0 CoAP, 1 CoAPS, 2 HTTP 1.1, 3 HTTPS 1.1, 4 CoAP over TCP, 5 CoAP over TLS.', { ...MULTI, range: '0..5' }),
  r(9, 'Firmware Update Delivery Method', 'R', 'integer', '0 pull only, 1 push only, 2 both.', { ...MAND, range: '0..2' }),
  r(10, 'Cancel', 'E', 'none', 'Cancels a download or a deferred update.'),
  r(11, 'Severity', 'RW', 'integer', '0 critical, 1 mandatory, 2 optional.', { range: '0..2' }),
  r(12, 'Last State Change Time', 'R', 'time', 'When State last changed.'),
  r(13, 'Maximum Defer Period', 'RW', 'unsigned', 'How long the user may defer the update.', { units: 's' }),
  r(14, 'Automatic Upgrade at Download', 'RW', 'boolean', 'Install automatically once downloaded.'),
]);

export const LOCATION = defineObject({
  id: 6, name: 'Location', version: '1.0', lwm2mVersion: '1.0', multiple: false, mandatory: false,
  description: 'Position, velocity and time of the last fix.',
}, [
  r(0, 'Latitude', 'R', 'float', 'Latitude in decimal degrees (WGS84).', { ...MAND, units: 'lat' }),
  r(1, 'Longitude', 'R', 'float', 'Longitude in decimal degrees (WGS84).', { ...MAND, units: 'lon' }),
  r(2, 'Altitude', 'R', 'float', 'Altitude above sea level, in metres.', { units: 'm' }),
  r(3, 'Radius', 'R', 'float', 'Radius of the uncertainty circle, in metres.', { units: 'm' }),
  r(4, 'Velocity', 'R', 'opaque', 'Velocity as encoded by 3GPP TS 23.032.'),
  r(5, 'Timestamp', 'R', 'time', 'When the location was measured.', MAND),
  r(6, 'Speed', 'R', 'float', 'Speed in metres per second.', { units: 'm/s' }),
]);

export const CONNECTIVITY_STATISTICS = defineObject({
  id: 7, name: 'Connectivity Statistics', version: '1.0', lwm2mVersion: '1.0', multiple: false, mandatory: false,
  description: 'Traffic counters over a collection period started and stopped by the server.',
}, [
  r(0, 'SMS Tx Counter', 'R', 'integer', 'SMS sent during the collection period.'),
  r(1, 'SMS Rx Counter', 'R', 'integer', 'SMS received during the collection period.'),
  r(2, 'Tx Data', 'R', 'integer', 'Data (IP or not) sent during the collection period, in kB.'),
  r(3, 'Rx Data', 'R', 'integer', 'Data (IP or not) received during the collection period, in kB.'),
  r(4, 'Max Message Size', 'R', 'integer', 'Largest IP message during the collection period.', { units: 'B' }),
  r(5, 'Average Message Size', 'R', 'integer', 'Average IP message size during the collection period.', { units: 'B' }),
  r(6, 'Start', 'E', 'none', 'Resets the counters and starts collecting.', MAND),
  r(7, 'Stop', 'E', 'none', 'Stops collecting.', MAND),
  r(8, 'Collection Period', 'RW', 'integer', 'Default collection period in seconds (0: not set).', { units: 's' }),
]);

/** Objects 0-7. */
export const CORE_OBJECTS: readonly ObjectDef[] = Object.freeze([
  SECURITY, SERVER, ACCESS_CONTROL, DEVICE, CONNECTIVITY_MONITORING, FIRMWARE_UPDATE, LOCATION, CONNECTIVITY_STATISTICS,
]);
