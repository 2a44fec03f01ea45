/**
 * Demo telematics data: one sandbox instance and a few devices with logins and refreshes, so the
 * Devices pages show something on a fresh embedded start. Goes through the domain functions, so
 * the audit log holds the same history a real integration would leave.
 */
import type { Database } from "@/db/client";
import { NO_REQUEST, systemActor } from "@/lib/context";
import { createInstance, findInstance, loginDevice, refreshDeviceToken, registerDevice, setDeviceDisabled } from "@/lib/devices";

const DEMO_DEVICES = [
  { ClientId: "fleet-driver-001", FirstName: "Dana", LastName: "Driver", Email: "dana.driver@example.com", Phone: "+1 555 0101" },
  { ClientId: "fleet-driver-002", FirstName: "Lee", LastName: "Longhaul", Email: "lee.longhaul@example.com", Phone: null },
  { ClientId: "fleet-driver-003", FirstName: "Robin", LastName: "Route", Email: null, Phone: null },
];

export async function seedDevicesDemo(db: Database): Promise<void> {
  const actor = systemActor("demo seed");
  const { instance, instanceKey } = await createInstance(db, actor, { name: "Demo fleet app", environment: "sandbox" }, NO_REQUEST);
  const row = (await findInstance(db, instance.id))!;
  const start = Date.now() - 3 * 86_400_000;
  for (const [n, d] of DEMO_DEVICES.entries()) {
    const at = (hours: number) => new Date(start + n * 3_600_000 + hours * 3_600_000);
    const reg = await registerDevice(
      db,
      row,
      { UserFields: { ClientId: d.ClientId }, FirstName: d.FirstName, LastName: d.LastName, Email: d.Email, Phone: d.Phone, Nickname: null, CustomToken: null },
      NO_REQUEST,
      { now: at(0) },
    );
    const login = await loginDevice(db, { instanceId: instance.id, deviceToken: reg.deviceToken, password: instanceKey }, NO_REQUEST, { now: at(20) });
    await refreshDeviceToken(db, { accessToken: login.accessToken, refreshToken: login.refreshToken }, NO_REQUEST, { now: at(45) });
    if (n === 2) await setDeviceDisabled(db, actor, reg.deviceId, true, "Demo: phone reported lost", NO_REQUEST, { now: at(50) });
  }
}
