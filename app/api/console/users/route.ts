export const dynamic = "force-dynamic";

export { userPickerRoute as GET } from "@/server/routes/console";
