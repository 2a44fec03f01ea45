export const dynamic = "force-dynamic";

export {
  unknownTelematicsPathRoute as DELETE,
  unknownTelematicsPathRoute as GET,
  unknownTelematicsPathRoute as PATCH,
  unknownTelematicsPathRoute as POST,
  unknownTelematicsPathRoute as PUT,
} from "@/server/routes/devices";
