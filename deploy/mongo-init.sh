#!/usr/bin/env bash
# Run by compose.yaml's mongo-init service (image mongo:7) on every `up`, and
# by the Job in k8s/mongodb.example.yaml:
#  1. initiates the replica set $MONGO_REPLSET over $MONGO_HOSTS (the first
#     host gets the highest priority), unless it is initiated;
#  2. waits for a primary;
#  3. creates the servers' database user (readWrite on $SCT_DATABASE only), or
#     sets its password and roles again if it exists.
# Running it again changes nothing, except a password changed in its secret.
#
# Passwords are read from the secret files and handed to mongosh in its
# environment, never on a command line (where ps would show them).
set -euo pipefail

: "${MONGO_HOSTS:=mongo1:27017,mongo2:27017,mongo3:27017}"
: "${MONGO_REPLSET:=rs0}"
: "${SCT_DATABASE:=sct}"
: "${SCT_DB_USER:=sct}"
MONGO_ROOT_PASSWORD=$(< /run/secrets/mongo_root_password)
SCT_DB_PASSWORD=$(< /run/secrets/mongo_sct_password)
export MONGO_HOSTS MONGO_REPLSET MONGO_ROOT_PASSWORD SCT_DB_PASSWORD SCT_DATABASE SCT_DB_USER

if [ -z "$MONGO_ROOT_PASSWORD" ] || [ -z "$SCT_DB_PASSWORD" ]; then
  echo "mongo-init: a password secret is empty; run deploy/secrets/generate.sh" >&2
  exit 1
fi

# Before the set exists there is no primary to select: talk to the first
# member alone. It is the one that holds the root user.
first="mongodb://${MONGO_HOSTS%%,*}/admin?directConnection=true"
set_uri="mongodb://${MONGO_HOSTS}/admin?replicaSet=${MONGO_REPLSET}"

# The first member answers on its network name only once the image's
# first-start setup (which listens on 127.0.0.1) is over.
for i in $(seq 1 90); do
  if mongosh "$first" --quiet --norc --eval 'quit(db.adminCommand({ ping: 1 }).ok === 1 ? 0 : 1)' >/dev/null 2>&1; then
    break
  fi
  if [ "$i" -eq 90 ]; then
    echo "mongo-init: ${MONGO_HOSTS%%,*} did not answer within 3 minutes" >&2
    exit 1
  fi
  sleep 2
done

mongosh "$first" --quiet --norc --eval '
const admin = db.getSiblingDB("admin");
admin.auth("root", process.env.MONGO_ROOT_PASSWORD);

function status() {
  try {
    return admin.runCommand({ replSetGetStatus: 1 });
  } catch (e) {
    return { ok: 0, code: e.code, codeName: e.codeName, errmsg: e.message };
  }
}

const st = status();
if (st.ok === 1) {
  print("mongo-init: replica set " + st.set + " already initiated");
} else if (st.code === 94) { // NotYetInitialized
  const hosts = process.env.MONGO_HOSTS.split(",");
  rs.initiate({
    _id: process.env.MONGO_REPLSET,
    // A majority acknowledgement means journaled on a majority (the default,
    // stated so that nobody turns it off by accident).
    writeConcernMajorityJournalDefault: true,
    members: hosts.map((host, i) => ({ _id: i, host: host, priority: i === 0 ? 2 : 1 })),
  });
  print("mongo-init: replica set " + process.env.MONGO_REPLSET + " initiated over " + hosts.join(", "));
} else {
  throw new Error("replSetGetStatus: " + JSON.stringify(st));
}

// Wait for a primary (an election takes a few seconds after initiation).
for (let i = 0; ; i++) {
  const hello = admin.runCommand({ hello: 1 });
  if (hello.primary) {
    print("mongo-init: primary is " + hello.primary);
    break;
  }
  if (i >= 120) {
    throw new Error("no primary after 2 minutes");
  }
  sleep(1000);
}
'

mongosh "$set_uri" --quiet --norc --eval '
const admin = db.getSiblingDB("admin");
admin.auth("root", process.env.MONGO_ROOT_PASSWORD);

const user = process.env.SCT_DB_USER;
const pwd = process.env.SCT_DB_PASSWORD;
const roles = [{ role: "readWrite", db: process.env.SCT_DATABASE }];
const wc = { w: "majority", j: true };
if (admin.getUser(user) === null) {
  admin.createUser({ user: user, pwd: pwd, roles: roles }, wc);
  print("mongo-init: user " + user + " created");
} else {
  admin.updateUser(user, { pwd: pwd, roles: roles }, wc);
  print("mongo-init: user " + user + " updated");
}
'
