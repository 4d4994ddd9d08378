"""Signing in and out, the home page, and the people page (admins)."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from config import Settings
from store.people import (
    PeopleError,
    authenticate,
    close_session,
    list_users,
    open_session,
    set_disabled,
)
from web.guard import SESSION_COOKIE, Person, allow, db, safe_next
from web.render import page

router = APIRouter()

Reader = Annotated[Person, Depends(allow("read"))]
Manager = Annotated[Person, Depends(allow("manage"))]
Db = Annotated[Session, Depends(db)]

SIGN_IN_PROBLEMS = {
    "wrong": "ชื่อผู้ใช้หรือรหัสผ่านไม่ถูกต้อง · Wrong username or password",
    "locked": "บัญชีถูกล็อกชั่วคราวเพราะเข้าสู่ระบบผิดหลายครั้ง · Locked for a while after repeated failures",
    "disabled": "บัญชีนี้ถูกปิดใช้งาน · This account is disabled",
}


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "/") -> Response:
    return page(request, "login.html", next=safe_next(next), problem=None)


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    session: Db,
    username: Annotated[str, Form(max_length=200)],
    password: Annotated[str, Form(max_length=1000)],
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    """Sign in. A failure waits longer the more failures the account has had in a row, and locks the
    account after ``web.login_max_failures`` (the page never says which of name or password was wrong)."""
    web = settings_of(request).web
    result = authenticate(
        session,
        username,
        password,
        max_failures=web.login_max_failures,
        lockout=timedelta(minutes=web.lockout_minutes),
    )
    if result.user is None:
        session.commit()  # the failure counts even though the answer is an error page
        time.sleep(min(0.25 * (result.failures + 1), 3.0))
        problem = SIGN_IN_PROBLEMS[result.problem or "wrong"]
        return page(request, "login.html", status_code=401, next=safe_next(next), problem=problem)
    secret = open_session(session, result.user, web.session_hours)
    response = RedirectResponse(safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        secret,
        max_age=int(web.session_hours * 3600),
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )
    return response


@router.post("/logout")
def logout(request: Request, session: Db, _person: Annotated[Person, Depends(allow("read"))]) -> Response:
    close_session(session, request.cookies.get(SESSION_COOKIE, ""))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/", response_class=HTMLResponse)
def home(request: Request, person: Reader) -> Response:
    return page(request, "home.html")


@router.get("/users", response_class=HTMLResponse)
def users(request: Request, session: Db, person: Manager) -> Response:
    return page(request, "users.html", users=list_users(session))


@router.post("/users/{username}/disable")
def disable(request: Request, session: Db, person: Manager, username: str) -> Response:
    if username == person.username:
        raise HTTPException(status_code=400, detail="ปิดบัญชีตัวเองไม่ได้ · You cannot disable yourself")
    try:
        set_disabled(session, username)
    except PeopleError as exc:
        raise HTTPException(status_code=404, detail=str(exc)) from exc
    return RedirectResponse("/users", status_code=303)
