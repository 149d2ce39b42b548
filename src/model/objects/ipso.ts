/**
 * Common IPSO Smart Objects (OMNA registry, IPSO Alliance / OMA SpecWorks "IPSO Smart Objects" 1.1). They are built
 * from reusable resources (ids 5500-6050) that keep the same meaning in every object.
 *
 * Versions follow the registry: object version 1.1 (LwM2M 1.0) except Light Control 3311, still 1.0. Version 1.1 of
 * the sensors added Timestamp 5518, Fractional Timestamp 6050 and the measurement quality resources 6042 / 6049.
 */
import { ObjectDef, ResourceDef } from '../types';
import { defineObject, MAND, r } from './define';

// ---- reusable resources ----------------------------------------------------------------------------------------------
const SENSOR_VALUE = r(5700, 'Sensor Value', 'R', 'float', 'Last or current measured value.', MAND);
const SENSOR_UNITS = r(5701, 'Sensor Units', 'R', 'string', 'Units of the measured value (SenML unit, e.g. Cel, %RH, lx, W, Wh).');
const MIN_MEASURED = r(5601, 'Min Measured Value', 'R', 'float', 'Lowest value measured since power-on or the last reset.');
const MAX_MEASURED = r(5602, 'Max Measured Value', 'R', 'float', 'Highest value measured since power-on or the last reset.');
const MIN_RANGE = r(5603, 'Min Range Value', 'R', 'float', 'Lowest value the sensor can measure.');
const MAX_RANGE = r(5604, 'Max Range Value', 'R', 'float', 'Highest value the sensor can measure.');
const RESET_MIN_MAX = r(5605, 'Reset Min and Max Measured Values', 'E', 'none', 'Resets Min and Max Measured Values to the current value.');
const APPLICATION_TYPE = r(5750, 'Application Type', 'RW', 'string', 'What the object is used for, set by the user (e.g. "boiler room").');
const SENSOR_TYPE = r(5751, 'Sensor Type', 'R', 'string', 'Type of sensor (e.g. PIR, ultrasonic, photocell).');
const TIMESTAMP = r(5518, 'Timestamp', 'R', 'time', 'When the value was measured.');
const FRACTIONAL_TIMESTAMP = r(6050, 'Fractional Timestamp', 'R', 'float', 'Fraction of a second to add to Timestamp.', { range: '0..1', units: 's' });
const QUALITY_INDICATOR = r(6042, 'Measurement Quality Indicator', 'R', 'integer', 'Quality check result: 0 unchecked, 1 rejected with certainty, 2 rejected with probability, 3 accepted but suspicious, 4 accepted; 5-15 reserved, 16-23 vendor.', { range: '0..23' });
const QUALITY_LEVEL = r(6049, 'Measurement Quality Level', 'R', 'integer', 'How far the value passed quality checks: 100 fully, 0 reject it.', { range: '0..100' });

const DIGITAL_INPUT_STATE = r(5500, 'Digital Input State', 'R', 'boolean', 'Current state of the input.', MAND);
const DIGITAL_INPUT_COUNTER = r(5501, 'Digital Input Counter', 'R', 'integer', 'Number of times the input became active.');
const DIGITAL_INPUT_COUNTER_RESET = r(5505, 'Digital Input Counter Reset', 'E', 'none', 'Resets the counter to 0.');
const ON_OFF = r(5850, 'On/Off', 'RW', 'boolean', 'On (true) or off (false).', MAND);
const DIMMER = r(5851, 'Dimmer', 'RW', 'integer', 'Level in percent.', { range: '0..100', units: '/100' });
const ON_TIME = r(5852, 'On time', 'RW', 'integer', 'Seconds since last switched on; writing 0 resets it.', { units: 's' });
const CUMULATIVE_ACTIVE_POWER = r(5805, 'Cumulative active power', 'R', 'float', 'Energy used since power-on or reset.', { units: 'Wh' });
const POWER_FACTOR = r(5820, 'Power factor', 'R', 'float', 'Power factor of the load.');
const COLOUR = r(5706, 'Colour', 'RW', 'string', 'A value in some colour space (RGB, CIE...), as a string.');

/** The resources of a 1.1 IPSO sensor (3300-style), optionally with Sensor Type. */
function sensorResources(withSensorType: boolean): ResourceDef[] {
  const list = [SENSOR_VALUE, SENSOR_UNITS, MIN_MEASURED, MAX_MEASURED, MIN_RANGE, MAX_RANGE, RESET_MIN_MAX,
    APPLICATION_TYPE, TIMESTAMP, FRACTIONAL_TIMESTAMP, QUALITY_INDICATOR, QUALITY_LEVEL];
  return withSensorType ? [...list, SENSOR_TYPE] : list;
}

function ipso(id: number, name: string, description: string, resources: ResourceDef[], version = '1.1'): ObjectDef {
  return defineObject({ id, name, version, lwm2mVersion: '1.0', multiple: true, mandatory: false, description }, resources);
}

export const DIGITAL_INPUT = ipso(3200, 'Digital Input', 'A generic binary input with an edge counter.', [
  DIGITAL_INPUT_STATE, DIGITAL_INPUT_COUNTER,
  r(5502, 'Digital Input Polarity', 'RW', 'boolean', 'When true, the state is inverted.'),
  r(5503, 'Digital Input Debounce', 'RW', 'integer', 'Debounce period in milliseconds.', { units: 'ms' }),
  r(5504, 'Digital Input Edge Selection', 'RW', 'integer', 'Edges counted: 1 falling, 2 rising, 3 both.', { range: '1..3' }),
  DIGITAL_INPUT_COUNTER_RESET, APPLICATION_TYPE, SENSOR_TYPE, TIMESTAMP, FRACTIONAL_TIMESTAMP,
]);

export const DIGITAL_OUTPUT = ipso(3201, 'Digital Output', 'A generic binary output.', [
  r(5550, 'Digital Output State', 'RW', 'boolean', 'Current state of the output.', MAND),
  r(5551, 'Digital Output Polarity', 'RW', 'boolean', 'When true, the output is inverted.'),
  APPLICATION_TYPE, TIMESTAMP, FRACTIONAL_TIMESTAMP,
]);

export const ANALOG_INPUT = ipso(3202, 'Analog Input', 'A generic analog input.', [
  r(5600, 'Analog Input Current Value', 'R', 'float', 'Current value of the input.', MAND),
  MIN_MEASURED, MAX_MEASURED, MIN_RANGE, MAX_RANGE, APPLICATION_TYPE, SENSOR_TYPE, RESET_MIN_MAX, TIMESTAMP,
  FRACTIONAL_TIMESTAMP, QUALITY_INDICATOR, QUALITY_LEVEL,
]);

export const ANALOG_OUTPUT = ipso(3203, 'Analog Output', 'A generic analog output.', [
  r(5650, 'Analog Output Current Value', 'RW', 'float', 'Current value of the output.', { ...MAND, range: '0..1' }),
  APPLICATION_TYPE, MIN_RANGE, MAX_RANGE, TIMESTAMP, FRACTIONAL_TIMESTAMP,
]);

export const GENERIC_SENSOR = ipso(3300, 'Generic Sensor', 'Any sensor measuring a value in the units of Sensor Units.', sensorResources(true));
export const ILLUMINANCE = ipso(3301, 'Illuminance', 'Illuminance sensor, in lux.', sensorResources(false));

export const PRESENCE = ipso(3302, 'Presence', 'Presence detector (PIR, ultrasonic...).', [
  DIGITAL_INPUT_STATE, DIGITAL_INPUT_COUNTER, DIGITAL_INPUT_COUNTER_RESET, SENSOR_TYPE,
  r(5903, 'Busy to Clear delay', 'RW', 'integer', 'Delay from the busy (detection) state to the clear state, in ms.', { units: 'ms' }),
  r(5904, 'Clear to Busy delay', 'RW', 'integer', 'Delay from the clear state to the busy state, in ms.', { units: 'ms' }),
  APPLICATION_TYPE, TIMESTAMP, FRACTIONAL_TIMESTAMP, QUALITY_INDICATOR, QUALITY_LEVEL,
]);

export const TEMPERATURE = ipso(3303, 'Temperature', 'Temperature sensor, usually in degrees Celsius (Cel).', sensorResources(false));
export const HUMIDITY = ipso(3304, 'Humidity', 'Relative humidity sensor, in percent (%RH).', sensorResources(false));

export const ACTUATION = ipso(3306, 'Actuation', 'A generic on/off actuator with an optional level.', [
  ON_OFF, DIMMER, ON_TIME,
  r(5853, 'Multi-state Output', 'RW', 'string', 'Named state of a multi-state actuator.'),
  APPLICATION_TYPE, TIMESTAMP, FRACTIONAL_TIMESTAMP,
]);

export const SET_POINT = ipso(3308, 'Set Point', 'A target value (temperature, colour...) for a controller.', [
  r(5900, 'Set Point Value', 'RW', 'float', 'The target value.', MAND),
  SENSOR_UNITS, COLOUR, APPLICATION_TYPE, TIMESTAMP, FRACTIONAL_TIMESTAMP,
]);

export const LIGHT_CONTROL = ipso(3311, 'Light Control', 'A light source: switch, dimmer, colour and energy.', [
  ON_OFF, DIMMER, ON_TIME, CUMULATIVE_ACTIVE_POWER, POWER_FACTOR, COLOUR, SENSOR_UNITS, APPLICATION_TYPE,
], '1.0');

export const POWER_CONTROL = ipso(3312, 'Power Control', 'A switched (and possibly dimmed) power output, e.g. a smart plug.', [
  ON_OFF, DIMMER, ON_TIME, CUMULATIVE_ACTIVE_POWER, POWER_FACTOR, APPLICATION_TYPE, TIMESTAMP, FRACTIONAL_TIMESTAMP,
]);

export const POWER = ipso(3328, 'Power', 'Power measurement, in watts.', [
  ...sensorResources(false),
  r(5821, 'Current Calibration', 'RW', 'float', 'Calibration coefficient of the current measurement.'),
]);

export const ENERGY = ipso(3331, 'Energy', 'Cumulative energy measurement, in watt-hours.', [
  SENSOR_VALUE, SENSOR_UNITS,
  r(5822, 'Reset Cumulative energy', 'E', 'none', 'Resets the cumulative energy to 0.'),
  APPLICATION_TYPE, TIMESTAMP, FRACTIONAL_TIMESTAMP, QUALITY_INDICATOR, QUALITY_LEVEL,
]);

export const PUSH_BUTTON = ipso(3347, 'Push button', 'A push button: pressed state and press counter.', [
  DIGITAL_INPUT_STATE, DIGITAL_INPUT_COUNTER, APPLICATION_TYPE, TIMESTAMP, FRACTIONAL_TIMESTAMP,
]);

export const IPSO_OBJECTS: readonly ObjectDef[] = Object.freeze([
  DIGITAL_INPUT, DIGITAL_OUTPUT, ANALOG_INPUT, ANALOG_OUTPUT, GENERIC_SENSOR, ILLUMINANCE, PRESENCE, TEMPERATURE,
  HUMIDITY, ACTUATION, SET_POINT, LIGHT_CONTROL, POWER_CONTROL, POWER, ENERGY, PUSH_BUTTON,
]);
