// The entry point of `node --require`: arms the tripwire of local-contacts.ts in this process.
import { armTripwire } from './local-contacts';

armTripwire();
