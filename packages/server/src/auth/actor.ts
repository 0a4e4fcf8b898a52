/** Who a request acts as: the user behind its API key, and that key. */
export interface Actor {
  userId: string;
  userName: string;
  isAdmin: boolean;
  keyId: string;
}
