// The README's samples import `db` from here: an in-memory stand-in for the app's own database layer.
export interface NewUser {
  email: string;
  name: string;
}

export interface User extends NewUser {
  id: number;
}

let nextId = 1;
export const db = {
  users: {
    async insert(input: NewUser): Promise<User> {
      return { id: nextId++, ...input };
    },
  },
};
